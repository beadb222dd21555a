import type { Command } from 'commander';
import { DEFAULT_DATA_DIR, DEFAULT_REGION } from '../defaults.js';

/** Options naming where data lives, shared by `serve` and `accounts`. */
export function addStorageOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', `data directory of the embedded store (default ${DEFAULT_DATA_DIR})`)
    .option(
      '--store <store>',
      'embedded | redis://HOST:PORT | redis-cluster://H1:P1,H2:P2 (default embedded)',
    )
    .option(
      '--region <name>',
      `region this server answers for, and of new accounts (default ${DEFAULT_REGION})`,
    );
}
