import type { AccountCredentials, AccountRegistry } from '../accounts/account-registry.js';
import { Simulator } from '../simulate/simulator.js';

/** Name of the account `serve --demo` creates, then reuses on later starts. */
export const DEMO_ACCOUNT_NAME = 'demo';
/** Modest traffic, so a laptop serves it without noticing. */
export const DEMO_RATE = 20;
export const DEMO_USERS = 500;

export interface Demo {
  stop(): Promise<void>;
}

/**
 * `serve --demo`: makes sure an account named `demo` exists, prints how to use it, and runs the
 * traffic simulator in this process against the server's own URL until `stop`. A reused account
 * gets a new passcode, since passcodes are kept only as digests and cannot be shown again.
 */
export async function startDemo(
  accounts: AccountRegistry,
  { url, region, onError }: { url: string; region: string; onError: (error: unknown) => void },
): Promise<Demo> {
  const existing = (await accounts.list()).find((account) => account.name === DEMO_ACCOUNT_NAME);
  const credentials: AccountCredentials | undefined =
    existing === undefined
      ? await accounts.create({ name: DEMO_ACCOUNT_NAME, region })
      : await accounts.rotatePasscode(existing.id);
  if (credentials === undefined) throw new Error('the demo account disappeared while starting');
  process.stdout.write(
    [
      `demo: ${existing === undefined ? 'created' : 'reusing'} account "${DEMO_ACCOUNT_NAME}", ` +
        `with simulated traffic (${DEMO_RATE} events/s from ${DEMO_USERS} users):`,
      `  account id: ${credentials.id}`,
      `  passcode:   ${credentials.passcode}`,
      `  token:      ${credentials.token}`,
      `  try: activenow now --url ${url} --account ${credentials.id} --passcode ${credentials.passcode}`,
      '',
    ].join('\n'),
  );
  const simulator = new Simulator({
    url,
    account: credentials.id,
    passcode: credentials.passcode,
    rate: DEMO_RATE,
    users: DEMO_USERS,
  });
  const stopping = new AbortController();
  const running = simulator.run(stopping.signal).catch(onError);
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
