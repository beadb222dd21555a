import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../src/cli/serve-node-flags.js';

/**
 * `serve` is meant to run with SERVE_NODE_FLAGS (src/cli/serve-node-flags.ts): every way the project
 * starts it must pass them, or the server runs with V8's default young generation unnoticed.
 */

const ROOT = join(import.meta.dirname, '..', '..');

describe('the Node options of serve', () => {
  it('are on the bin’s shebang line', () => {
    const firstLine = readFileSync(join(ROOT, 'src', 'cli', 'main.ts'), 'utf8').split('\n')[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${SERVE_NODE_FLAGS.join(' ')}`);
  });

  it('are passed by npm start', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.start).toBe(`npm run build && node ${SERVE_NODE_FLAGS.join(' ')} dist/cli/main.js serve`);
  });

  it('are options this Node.js accepts', () => {
    for (const flag of SERVE_NODE_FLAGS)
      expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0])).toBe(true);
  });
});
