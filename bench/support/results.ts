/** Writing benchmark figures: bench/results.json (merged by key) and sections of bench/RESULTS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_HEADER =
  '# Benchmark results\n\nFigures measured by the scripts in bench/; each section is rewritten by its script.\n';

/** Sets top-level keys of bench/results.json, keeping the others. */
export function mergeResults(entries: Readonly<Record<string, unknown>>): string {
  const path = join(benchDir, 'results.json');
  const results: Record<string, unknown> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  Object.assign(results, entries);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

/**
 * Replaces the section of bench/RESULTS.md whose heading is `## ${title}`, or adds it: at the end,
 * or with `first` right after the file's header.
 */
export function writeResultsSection(title: string, body: string, first = false): string {
  const path = join(benchDir, 'RESULTS.md');
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : RESULTS_HEADER;
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const section = new RegExp(`^## ${escaped}\\n[\\s\\S]*?(?=^## |(?![\\s\\S]))`, 'm');
  const md = `## ${title}\n\n${body.trim()}\n`;
  const firstSection = existing.search(/^## /m);
  const updated = section.test(existing)
    ? existing.replace(section, `${md}\n`)
    : first && firstSection >= 0
      ? `${existing.slice(0, firstSection)}${md}\n${existing.slice(firstSection)}`
      : `${existing.replace(/\n*$/, '\n')}\n${md}`;
  writeFileSync(path, updated.replace(/\n*$/, '\n'));
  return path;
}

/** A Markdown table laid out as biome formats it (padded cells), so bench/RESULTS.md stays lint-clean. */
export function markdownTable(
  rows: readonly (readonly string[])[],
  rightAligned: readonly boolean[],
): string {
  const widths = rightAligned.map((_, c) => Math.max(3, ...rows.map((row) => row[c].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en');
}

export interface Publication {
  /** The section's heading in bench/RESULTS.md, e.g. `HTTP (bench:http)`. */
  readonly title: string;
  readonly table: string;
  readonly notes: readonly string[];
  /** Only a full-size run is recorded; a reduced one is printed and nothing more. */
  readonly fullRun: boolean;
  /** Top-level entries of bench/results.json. */
  readonly results: Readonly<Record<string, unknown>>;
}

/** Prints a benchmark's figures and, for a full run, records them in bench/RESULTS.md and results.json. */
export function publishResults(publication: Publication): void {
  const body = `${publication.table}\n\n${publication.notes.map((n) => `- ${n}`).join('\n')}`;
  console.log(`\n${body}\n`);
  if (!publication.fullRun) {
    console.log('Reduced run: results files left alone.');
    return;
  }
  mergeResults(publication.results);
  writeResultsSection(publication.title, body);
}
