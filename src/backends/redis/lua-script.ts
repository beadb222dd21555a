import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Lua script as Redis runs it: includes resolved, keyed by the SHA1 of its source. */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  readonly sha: string;
}

/** Where the `.lua` files live, next to this module (the build copies them beside its output). */
const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const INCLUDE = /^--- @include "([\w/-]+)"$/gm;

/**
 * Reads `lua/<name>-<numKeys>.lua` and inlines its `--- @include "path"` lines (paths relative to
 * the lua folder, without `.lua`), so shared pieces are written once and every script is one
 * self-contained source for EVALSHA.
 */
export function loadLuaScript(fileName: string): LuaScript {
  const match = /^([\w-]+)-(\d+)\.lua$/.exec(fileName);
  if (match === null) throw new Error(`Lua script file ${fileName} is not named <name>-<numKeys>.lua`);
  const source = inline(readFileSync(join(LUA_DIR, fileName), 'utf8'));
  return {
    name: basename(match[1]),
    numberOfKeys: Number(match[2]),
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
}

function inline(source: string): string {
  return source.replace(INCLUDE, (_line, path: string) => readFileSync(join(LUA_DIR, `${path}.lua`), 'utf8'));
}
