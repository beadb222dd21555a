#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { registerAccountsCommand } from './accounts-command.js';
import { registerNowCommand } from './now-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerSimulateCommand } from './simulate-command.js';

const program = new Command('activenow')
  .description('Exact distinct active users right now: a drop-in CleverTap Real-Time Counts API')
  .showHelpAfterError();
registerServeCommand(program);
registerAccountsCommand(program);
registerNowCommand(program);
registerSimulateCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `activenow: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
