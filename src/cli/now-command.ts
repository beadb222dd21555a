import type { Command } from 'commander';
import { loadClientConfig } from '../config.js';

type SuccessBody = Record<string, unknown> & { count: number; bots?: number; as_of?: number };

/** `activenow now`: asks a server for the counts and prints them as a table, or JSON. */
export function registerNowCommand(program: Command): void {
  program
    .command('now')
    .description('print the active users of an account now')
    .option('--url <url>', 'server base URL (default http://127.0.0.1:8080)')
    .option('--account <id>', 'account id')
    .option('--passcode <passcode>', 'account passcode')
    .option(
      '--split <names>',
      'comma-separated: user_type,session_source,browser,os,device,page,country,app_version,event,timeline,bots',
    )
    .option('--top <n>', 'keep the n values with the most users in each split (the others count as Other)')
    .option(
      '--filter <filter>',
      'count only users with these values, e.g. "country=IN,US;device=Mobile;event=Purchase" (name=values, ;-separated)',
    )
    .option('--json', 'print the JSON response')
    .action(async (flags: Record<string, unknown>) => {
      const config = loadClientConfig({ flags, env: process.env });
      const response = await fetch(new URL('/1/now.json', config.url), {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-CleverTap-Account-Id': config.account,
          'X-CleverTap-Passcode': config.passcode,
        },
        body: JSON.stringify({
          ...Object.fromEntries(config.split.map((name) => [name, true])),
          ...(config.top === undefined ? {} : { top: config.top }),
          ...(config.filter === undefined ? {} : { filter: config.filter }),
        }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`server answered ${response.status}: ${text}`);
      process.stdout.write(`${config.json ? text : formatTable(JSON.parse(text) as SuccessBody)}\n`);
    });
}

/** Rows of `label  value`, one block per split, for a person at a terminal. */
export function formatTable(body: SuccessBody): string {
  const lines = [`active users  ${body.count}`];
  if (body.bots !== undefined) lines.push(`bots          ${body.bots}`);
  if (body.as_of !== undefined) lines.push(`as of         ${new Date(body.as_of * 1000).toISOString()}`);
  const addBlock = (title: string, values: Record<string, unknown>, ranked = false) => {
    lines.push('', title);
    const width = Math.max(0, ...Object.keys(values).map((key) => key.length));
    const rows = Object.entries(values);
    // The server's order, again: a parsed object puts integer-like keys (an app version 6) first.
    if (ranked) rows.sort(([a, x], [b, y]) => Number(y) - Number(x) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, value] of rows) lines.push(`  ${key.padEnd(width)}  ${String(value)}`);
  };
  for (const [key, value] of Object.entries(body)) {
    if (['status', 'count', 'timeline', 'bots', 'as_of'].includes(key)) continue;
    if (key === 'new') {
      for (const [split, values] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        addBlock(`new users by ${split}`, values, true);
      }
    } else addBlock(key, value as Record<string, unknown>, key !== 'user_type');
  }
  if (Array.isArray(body.timeline)) {
    const points = body.timeline as { ts: number; count: number }[];
    addBlock(
      'per minute',
      Object.fromEntries(points.map((p) => [new Date(p.ts * 1000).toISOString().slice(11, 16), p.count])),
    );
  }
  return lines.join('\n');
}
