import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RECORD_ERRORS } from '../../src/model/record-errors.js';
import { API_ERRORS } from '../../src/protocol/error-catalogue.js';

const apiDoc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

/** Rows `| code | error |` of the markdown table that follows `heading`. */
function tableAfter(heading: string): string[][] {
  const section = apiDoc.slice(apiDoc.indexOf(heading));
  const rows: string[][] = [];
  let inTable = false;
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('| code')) inTable = true;
    else if (inTable && line.startsWith('|---')) continue;
    else if (inTable && line.startsWith('|'))
      rows.push(
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    else if (inTable) break;
  }
  return rows;
}

describe('docs/api.md', () => {
  it('lists exactly the error catalogue, in order', () => {
    const documented = tableAfter('## Errors');
    const catalogue = Object.values(API_ERRORS).map((e) => [String(e.status), e.message]);
    expect(documented).toEqual(catalogue);
  });

  it('lists exactly the record codes, in order', () => {
    const documented = tableAfter('### Record codes');
    const catalogue = Object.values(RECORD_ERRORS).map((e) => [String(e.code), e.message]);
    expect(documented).toEqual(catalogue);
  });

  it('has unique messages, so a client can tell errors apart', () => {
    const messages = Object.values(API_ERRORS).map((e) => e.message);
    expect(new Set(messages).size).toBe(messages.length);
  });
});
