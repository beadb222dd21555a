import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/now-command.js';

describe('activenow now, as a table', () => {
  it('lists each split by users, most first, as the server sent it, integer-like values included', () => {
    // The text as the server sends it; JSON.parse puts the integer-like key "6" first.
    const body = JSON.parse(
      '{"status":"success","count":5,"user_type":{"new":2,"returning":3},"app_version":{"5.2.0":3,"6":2},"new":{"app_version":{"5.2.0":1,"6":1}}}',
    );
    expect(Object.keys(body.app_version)).toEqual(['6', '5.2.0']);
    const lines = formatTable(body).split('\n');
    const block = (title: string) => lines.slice(lines.indexOf(title) + 1, lines.indexOf(title) + 3);
    expect(block('app_version')).toEqual(['  5.2.0  3', '  6      2']);
    // Ties: by value, as the server orders them.
    expect(block('new users by app_version')).toEqual(['  5.2.0  1', '  6      1']);
    // user_type keeps its order: new, then returning.
    expect(block('user_type')).toEqual(['  new        2', '  returning  3']);
  });
});
