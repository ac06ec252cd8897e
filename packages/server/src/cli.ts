#!/usr/bin/env node
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { AccountError, changePassword, createAccount, deleteAccount, prepareUsername } from './accounts.js';
import { controlSocketPath, type SessionInfo } from './core/control-socket.js';
import { openStorage, type Storage } from './storage/index.js';

const program = new Command('parleyctl')
  .description('Manage a Parley server: accounts, invitations, live sessions and configuration.')
  .option('-c, --config <file>', 'configuration file (default: parley.toml when present)');

function config(): Config {
  const file = program.opts<{ config?: string }>().config ?? (existsSync('parley.toml') ? 'parley.toml' : undefined);
  return loadConfig({ file });
}

async function withStorage<T>(work: (storage: Storage, config: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  const storage = await openStorage({ driver: cfg.storage.driver, path: cfg.storage.path });
  try {
    return await work(storage, cfg);
  } finally {
    await storage.close();
  }
}

/** Reads a password from standard input, without echo when it is a terminal. */
async function readPassword(prompt: string): Promise<string> {
  const input = process.stdin;
  const rl = createInterface({ input, output: process.stderr, terminal: input.isTTY });
  if (input.isTTY) {
    process.stderr.write(prompt);
    (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => undefined;
  }
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    rl.once('close', () => reject(new Error('no password given: type it, pipe it to standard input, or use --password')));
  });
  rl.close();
  if (input.isTTY) process.stderr.write('\n');
  return line;
}

program
  .command('adduser <username>')
  .description('create an account; the password is read from standard input unless --password is given')
  .option('-p, --password <password>', 'password (visible in the process list and shell history; prefer standard input)')
  .action(async (username: string, options: { password?: string }) => {
    const password = options.password ?? (await readPassword('Password: '));
    await withStorage(async (storage, cfg) => {
      const prepared = await createAccount({ config: cfg, storage }, username, password);
      console.log(`created ${prepared}@${cfg.domain}`);
    });
  });

program
  .command('deluser <username>')
  .description('delete an account and everything stored for it; a running server also ends its sessions')
  .action(async (username: string) => {
    const cfg = config();
    const prepared = prepareUsername(username, cfg.domain);
    const response = await controlRequest(controlSocketPath(cfg.data_dir), { command: 'delete-account', username: prepared }).catch(
      (err: unknown) => (err instanceof ServerNotRunningError ? undefined : Promise.reject(err)),
    );
    if (response !== undefined) {
      if (typeof response.error === 'string') throw new Error(response.error);
      console.log(`deleted ${prepared}@${cfg.domain}`);
      return;
    }
    await withStorage(async (storage) => {
      if (!(await storage.accounts.exists(cfg.domain, prepared))) throw new Error(`no account ${prepared}@${cfg.domain}`);
      await deleteAccount({ config: cfg, storage }, prepared);
      console.log(`deleted ${prepared}@${cfg.domain}`);
    });
  });

program
  .command('passwd <username>')
  .description('set a new password; it is read from standard input unless --password is given')
  .option('-p, --password <password>', 'new password (prefer standard input)')
  .action(async (username: string, options: { password?: string }) => {
    const password = options.password ?? (await readPassword('New password: '));
    await withStorage(async (storage, cfg) => {
      const prepared = prepareUsername(username, cfg.domain);
      if (!(await storage.accounts.exists(cfg.domain, prepared))) throw new Error(`no account ${prepared}@${cfg.domain}`);
      await changePassword({ config: cfg, storage }, prepared, password);
      console.log(`password changed for ${prepared}@${cfg.domain}`);
    });
  });

program
  .command('users')
  .description('list accounts')
  .option('-s, --search <text>', 'only usernames containing this text')
  .option('-n, --limit <count>', 'most accounts to list', '1000')
  .action(async (options: { search?: string; limit: string }) => {
    await withStorage(async (storage, cfg) => {
      const accounts = await storage.accounts.list(cfg.domain, { limit: Number(options.limit), search: options.search });
      for (const account of accounts) console.log(`${account.username}@${cfg.domain}${account.disabled ? ' (disabled)' : ''}`);
    });
  });

program
  .command('invite')
  .description('create a registration invitation token (for registration.policy = "invite")')
  .option('-u, --uses <count>', 'how many accounts the token may create', '1')
  .option('-d, --days <days>', 'days until the token expires', '7')
  .option('--note <text>', 'a note for administrators')
  .action(async (options: { uses: string; days: string; note?: string }) => {
    const token = randomBytes(18).toString('base64url');
    await withStorage(async (storage, cfg) => {
      await storage.invites.create({
        host: cfg.domain,
        tokenHash: createHash('sha256').update(token).digest('hex'),
        expiresAt: Date.now() + Number(options.days) * 86_400_000,
        maxUses: Number(options.uses),
        createdBy: 'parleyctl',
        note: options.note ?? null,
      });
    });
    console.log(token);
  });

program
  .command('sessions')
  .description('list the live sessions of the running server')
  .action(async () => {
    const sessions = await querySessions(controlSocketPath(config().data_dir));
    for (const s of sessions) console.log(`${s.jid}\t${s.transport}${s.secure ? '+tls' : ''}\t${s.ip}\t${s.available ? `available (${s.priority})` : 'not available'}\t${s.since}`);
    console.error(`${sessions.length} session(s)`);
  });

program
  .command('check-config')
  .description('validate the configuration and print it with defaults filled in')
  .action(() => {
    console.log(JSON.stringify(config(), null, 2));
  });

class ServerNotRunningError extends Error {}

/** Sends one request over the control socket of the running server and returns its JSON response. */
function controlRequest(socketPath: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socketPath);
    let buffered = '';
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(JSON.stringify(request) + '\n'));
    connection.on('data', (chunk: string) => {
      buffered += chunk;
      if (!buffered.includes('\n')) return;
      connection.end();
      resolve(JSON.parse(buffered) as Record<string, unknown>);
    });
    connection.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new ServerNotRunningError(`no server is running with the control socket ${socketPath}`));
      else reject(new Error(`cannot reach the server at ${socketPath}: ${err.message}`));
    });
  });
}

async function querySessions(socketPath: string): Promise<SessionInfo[]> {
  const response = await controlRequest(socketPath, { command: 'sessions' });
  if (!Array.isArray(response.sessions)) throw new Error(typeof response.error === 'string' ? response.error : 'invalid response');
  return response.sessions as SessionInfo[];
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AccountError) console.error(`parleyctl: ${err.message}`);
  else console.error('parleyctl:', err instanceof Error ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
