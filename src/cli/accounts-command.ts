import type { Command } from 'commander';
import type { AccountCredentials, AccountRegistry } from '../accounts/account-registry.js';
import { openAccounts } from '../composition-root.js';
import { loadStorageConfig } from '../config.js';
import { addStorageOptions } from './storage-options.js';

type Flags = Record<string, unknown>;

/** `activenow accounts …`: acts on the same storage as `serve`, also while a server runs on it. */
export function registerAccountsCommand(program: Command): void {
  const accounts = program.command('accounts').description('manage accounts and their passcodes');

  addStorageOptions(accounts.command('create').description('create an account and print its passcode once'))
    .requiredOption('--name <name>', 'account name')
    .option('--json', 'print JSON')
    .action((flags: Flags) =>
      withAccounts(flags, async (registry, region) => {
        printCredentials(await registry.create({ name: String(flags.name), region }), flags.json === true);
      }),
    );

  addStorageOptions(accounts.command('list').description('list accounts'))
    .option('--json', 'print JSON')
    .action((flags: Flags) =>
      withAccounts(flags, async (registry) => {
        const list = await registry.list();
        if (flags.json === true) return print(JSON.stringify(list));
        for (const a of list) {
          print(
            `${a.id}  ${a.region}  ${a.passcodes} passcode(s)  ${new Date(a.createdAt).toISOString()}  ${a.name}`,
          );
        }
      }),
    );

  addStorageOptions(accounts.command('rotate-passcode').description('add a passcode (old ones keep working)'))
    .argument('<id>', 'account id')
    .option('--json', 'print JSON')
    .action((id: string, flags: Flags) =>
      withAccounts(flags, async (registry) => {
        const credentials = await registry.rotatePasscode(id);
        if (credentials === undefined) throw new Error(`no account ${id}`);
        printCredentials(credentials, flags.json === true);
      }),
    );

  addStorageOptions(accounts.command('revoke-passcode').description('stop a passcode from working'))
    .argument('<id>', 'account id')
    .argument('<passcode>', 'the passcode to revoke')
    .action((id: string, passcode: string, flags: Flags) =>
      withAccounts(flags, async (registry) => {
        if (!(await registry.revokePasscode(id, passcode)))
          throw new Error(`no such passcode for account ${id}`);
        print(`revoked a passcode of ${id}`);
      }),
    );

  addStorageOptions(accounts.command('delete').description('delete an account and its passcodes'))
    .argument('<id>', 'account id')
    .action((id: string, flags: Flags) =>
      withAccounts(flags, async (registry) => {
        if (!(await registry.delete(id))) throw new Error(`no account ${id}`);
        print(`deleted ${id}`);
      }),
    );
}

async function withAccounts(flags: Flags, act: (registry: AccountRegistry, region: string) => Promise<void>) {
  const config = loadStorageConfig({ flags, env: process.env });
  const registry = await openAccounts(config);
  try {
    await act(registry, config.region);
  } finally {
    await registry.close();
  }
}

function printCredentials(c: AccountCredentials, json: boolean): void {
  if (json) {
    print(JSON.stringify({ id: c.id, name: c.name, region: c.region, passcode: c.passcode, token: c.token }));
    return;
  }
  print(
    `account id: ${c.id}\nname:       ${c.name}\nregion:     ${c.region}\npasscode:   ${c.passcode}\ntoken:      ${c.token}`,
  );
  print('The passcode and token are shown only now.');
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
