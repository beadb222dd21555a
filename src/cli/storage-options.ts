import type { Command } from 'commander';
import { STORE_FORMS } from '../composition-root.js';
import { DEFAULT_DATA_DIR, DEFAULT_REGION, DEFAULT_STORE } from '../defaults.js';

/** Options naming where data lives, shared by `serve` and `accounts`. */
export function addStorageOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', `data directory of the embedded store (default ${DEFAULT_DATA_DIR})`)
    .option('--store <store>', `${STORE_FORMS.join(' | ')} (default ${DEFAULT_STORE})`)
    .option(
      '--region <name>',
      `region this server answers for, and of new accounts (default ${DEFAULT_REGION})`,
    );
}
