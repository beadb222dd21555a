import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLuaScript } from '../../src/backends/redis/lua-script.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';

const LUA_DIR = join(import.meta.dirname, '../../src/backends/redis/lua');
const scriptFiles = readdirSync(LUA_DIR).filter((name) => name.endsWith('.lua'));

describe('Lua script files', () => {
  it('are all named <name>-<numKeys>.lua', () => {
    expect(scriptFiles.length).toBeGreaterThan(0);
    for (const file of scriptFiles) expect(file).toMatch(/^[a-z-]+-\d+\.lua$/);
  });

  it.each(scriptFiles)('%s has a header naming each of its KEYS, its ARGV and its reply', (file) => {
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(readFileSync(join(LUA_DIR, file), 'utf8'))?.[1];
    expect(header, 'a --[[ ... ]] header comment first').toBeDefined();
    const script = loadLuaScript(file);
    for (let k = 1; k <= script.numberOfKeys; k++) expect(header).toContain(`KEYS[${k}]`);
    expect(header).not.toContain(`KEYS[${script.numberOfKeys + 1}]`);
    expect(header).toContain('ARGV');
    expect(header).toMatch(/Returns/);
  });

  it.each(scriptFiles)('%s loads with its includes inlined and a SHA1 of the final source', (file) => {
    const script = loadLuaScript(file);
    expect(script.source).not.toMatch(/@include/);
    expect(script.sha).toMatch(/^[0-9a-f]{40}$/);
    const raw = readFileSync(join(LUA_DIR, file), 'utf8');
    if (raw.includes('@include')) expect(script.source.length).toBeGreaterThan(raw.length);
  });

  it('count the dimensions the server counts', () => {
    const shared = readFileSync(join(LUA_DIR, 'includes/account-state.lua'), 'utf8');
    expect(Number(/^local DIMENSIONS = (\d+)$/m.exec(shared)?.[1])).toBe(DIMENSIONS.length);
  });

  it('refuses a file not named <name>-<numKeys>.lua', () => {
    expect(() => loadLuaScript('record.lua')).toThrow(/<name>-<numKeys>\.lua/);
  });
});
