import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md lists every file of src/ and support/ under "Files", one table per folder:
 * the list must be the tree, no file missing and none that is gone.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

function filesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((name) => {
    const path = join(folder, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [relative(ROOT, join(ROOT, path))];
  });
}

/** `folder/file` for each row of each "### `folder/`" table of the Files section. */
function documentedFiles(): string[] {
  const section = doc.slice(doc.indexOf('\n## Files'));
  const files: string[] = [];
  for (const table of section.split('\n### ').slice(1)) {
    const folder = /^`([^`]+)\/`/.exec(table)?.[1];
    if (folder === undefined) throw new Error(`a Files heading is not a folder: ${table.split('\n')[0]}`);
    for (const row of table.matchAll(/^\| `([^`/]+)` \|/gm)) files.push(`${folder}/${row[1]}`);
  }
  return files;
}

describe('docs/architecture.md', () => {
  it('lists every file of src/ and support/, and only those', () => {
    const documented = documentedFiles();
    expect(new Set(documented).size, 'a file listed twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...filesUnder('src'), ...filesUnder('support')].sort());
  });
});
