#!/usr/bin/env node
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import pino from 'pino';
import { AccountError, type AccountContext, changePassword, createAccount, deleteAccount, prepareUsername } from './accounts.js';
import { redactConfig } from './config-redact.js';
import { controlRequest, requestIfRunning } from './control-client.js';
import { controlSocketPath, type SessionInfo } from './core/control-socket.js';
import { outboxHooks } from './provisioning/outbox.js';
import { openStorage, storageOptionsFrom, type Storage } from './storage/index.js';
import { addTokenCommands } from './admin/token-command.js';
import { runImportCommand } from './provisioning/import-command.js';
import { addWebhookCommands } from './webhooks/cli-commands.js';

/**
 * Discards output once the reader of `stream` has gone, as with `parleyctl users | head -1`.
 * The command still finishes its work and closes the database, and the exit status stays the
 * command's, so a closed pipe never turns into an EPIPE crash.
 */
function ignoreClosedReader(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

ignoreClosedReader(process.stdout);
ignoreClosedReader(process.stderr);

const program = new Command('parleyctl')
  .description('Manage a Parley server: accounts, invitations, live sessions and configuration.')
  .option('-c, --config <file>', 'configuration file (default: parley.toml when present)');

function config(): Config {
  const file = program.opts<{ config?: string }>().config ?? (existsSync('parley.toml') ? 'parley.toml' : undefined);
  return loadConfig({ file });
}

async function withStorage<T>(work: (storage: Storage, config: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  const storage = await openStorage(storageOptionsFrom(cfg.storage));
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
    const created = await throughServerOrDatabase({ command: 'create-account', username, password }, async (context) => {
      const prepared = await createAccount(context, username, password);
      return { created: `${prepared}@${context.config.domain}` };
    });
    console.log(`created ${String(created.created)}`);
  });

program
  .command('deluser <username>')
  .description('delete an account and everything stored for it; a running server also ends its sessions')
  .action(async (username: string) => {
    const cfg = config();
    const prepared = prepareUsername(username, cfg.domain);
    await throughServerOrDatabase({ command: 'delete-account', username: prepared }, async (context) => {
      if (!(await context.storage.accounts.exists(cfg.domain, prepared))) throw new Error(`no account ${prepared}@${cfg.domain}`);
      await deleteAccount(context, prepared);
      return {};
    });
    console.log(`deleted ${prepared}@${cfg.domain}`);
  });

program
  .command('passwd <username>')
  .description('set a new password; it is read from standard input unless --password is given')
  .option('-p, --password <password>', 'new password (prefer standard input)')
  .action(async (username: string, options: { password?: string }) => {
    const password = options.password ?? (await readPassword('New password: '));
    const cfg = config();
    const prepared = prepareUsername(username, cfg.domain);
    await throughServerOrDatabase({ command: 'set-password', username: prepared, password }, async (context) => {
      if (!(await context.storage.accounts.exists(cfg.domain, prepared))) throw new Error(`no account ${prepared}@${cfg.domain}`);
      await changePassword(context, prepared, password);
      return {};
    });
    console.log(`password changed for ${prepared}@${cfg.domain}`);
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
  .command('import <file>')
  .description('create or update accounts from a CSV or JSON lines file, through the running server or on the database; prints a summary and the failed rows')
  .option('-f, --format <format>', 'csv or jsonl (default: from the file extension)')
  .option('-r, --report <file>', 'write the report of every row to this file as JSON')
  .action(async (file: string, options: { format?: string; report?: string }) => {
    const cfg = config();
    const { report, direct } = await runImportCommand(cfg, withStorage, file, options, (line) => console.log(line));
    if (direct) await afterDirectChange(cfg);
    if (report.failed > 0) process.exitCode = 1;
  });

addTokenCommands(program, withStorage);
addWebhookCommands(program, withStorage);

program
  .command('check-config')
  .description('validate the configuration and print it with defaults filled in and secrets redacted')
  .action(() => {
    console.log(JSON.stringify(redactConfig(config()), null, 2));
  });

/**
 * Runs an account change in the running server, whose modules and webhooks see it at once.
 * Without a server, `direct` makes the change on the database and its account events go to
 * the outbox, which the server replays when it starts. Returns the server's answer or
 * what `direct` returns.
 */
async function throughServerOrDatabase(request: Record<string, unknown>, direct: (context: AccountContext) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const cfg = config();
  const response = await requestIfRunning(controlSocketPath(cfg.data_dir), request);
  if (response !== undefined) {
    if (typeof response.error === 'string') throw new Error(response.error);
    return response;
  }

  // Hook failures are logged at debug level; only warnings reach standard error.
  const log = pino({ level: 'warn' }, pino.destination(2));
  const result = await withStorage((storage) => direct({ config: cfg, storage, hooks: outboxHooks(storage, log) }));
  await afterDirectChange(cfg);
  return result;
}

/** Tells the administrator when the change reaches the server, and asks a server that started meanwhile to replay it now. */
async function afterDirectChange(cfg: Config): Promise<void> {
  const replayed = await requestIfRunning(controlSocketPath(cfg.data_dir), { command: 'replay-outbox' }).catch(() => undefined);
  if (replayed === undefined) console.error('parleyctl: no server is running; the directory, vCards, shared rosters and webhooks get this change when it starts');
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
