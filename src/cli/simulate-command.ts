import type { Command } from 'commander';
import { loadSimulateConfig, type SimulateConfig } from '../config.js';
import { startProgress } from '../simulate/progress-line.js';
import { Simulator } from '../simulate/simulator.js';

/** `activenow simulate`: sends simulated users' events to a server until --duration or Ctrl-C. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('send simulated traffic (sessions of users) to a server')
    .option('--url <url>', 'server base URL (default http://127.0.0.1:8080)')
    .option('--account <id>', 'account id')
    .option('--passcode <passcode>', 'account passcode')
    .option(
      '--users <n>',
      'known users that sessions come from (default 1000; 20% of sessions are new users)',
    )
    .option('--rate <r>', 'events per second overall (default 20)')
    .option('--duration <s>', 'seconds to run (default: until Ctrl-C)')
    .option('--seed <n>', 'seed of the traffic, for a reproducible run (default random)')
    .action(async (flags: Record<string, unknown>) => {
      await simulate(loadSimulateConfig({ flags, env: process.env }));
    });
}

async function simulate(config: SimulateConfig): Promise<void> {
  const simulator = new Simulator(config);
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  const timer = config.duration === undefined ? undefined : setTimeout(stop, config.duration * 1000);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(
    `simulating ${config.rate} events/s from ${config.users} users against ${config.url}` +
      `${config.duration === undefined ? ' (Ctrl-C to stop)' : ` for ${config.duration} s`}\n`,
  );
  const progress = startProgress(process.stdout, () => simulator.stats());
  try {
    await simulator.run(stopping.signal);
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    progress.stop();
  }
}
