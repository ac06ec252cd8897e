import { createServer, type Server } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { StreamError, jid } from '@parley/xmpp';
import { deleteAccount } from '../accounts.js';
import type { ServerContext } from './context.js';

/** A live session as `parleyctl sessions` lists it. */
export interface SessionInfo {
  jid: string;
  transport: string;
  ip: string;
  secure: boolean;
  available: boolean;
  priority: number;
  since: string;
}

/** Returns the path of the control socket of the server that uses `dataDir`. */
export function controlSocketPath(dataDir: string): string {
  return path.resolve(dataDir, 'parley.sock');
}

/**
 * Serves the local control socket (a Unix socket readable by the server's user only)
 * that `parleyctl` uses to query the running process. One JSON request per line,
 * one JSON response per line.
 */
export async function startControlSocket(server: ServerContext): Promise<Server> {
  const socketPath = controlSocketPath(server.config.data_dir);
  if (existsSync(socketPath)) unlinkSync(socketPath);
  const control = createServer((connection) => {
    let buffered = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > 65_536) connection.destroy();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        answer(server, line).then(
          (response) => connection.write(JSON.stringify(response) + '\n'),
          (err: unknown) => {
            server.log.error({ err }, 'control command failed');
            connection.write(JSON.stringify({ error: 'the command failed; see the server log' }) + '\n');
          },
        );
      }
    });
    connection.on('error', () => connection.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return control;
}

async function answer(server: ServerContext, line: string): Promise<unknown> {
  let request: { command?: unknown; username?: unknown };
  try {
    request = JSON.parse(line) as { command?: unknown; username?: unknown };
  } catch {
    return { error: 'invalid JSON request' };
  }
  if (request.command === 'sessions') return { sessions: listSessions(server) };
  if (request.command === 'delete-account' && typeof request.username === 'string') return removeAccount(server, request.username);
  return { error: `unknown command ${JSON.stringify(request.command)}` };
}

/** Deletes an account inside the running server, so that its hooks run and its sessions end. */
async function removeAccount(server: ServerContext, username: string): Promise<unknown> {
  if (!(await server.storage.accounts.exists(server.config.domain, username))) return { error: `no account ${username}@${server.config.domain}` };
  await deleteAccount(server, username);
  const bare = jid(username, server.config.domain);
  for (const session of server.sessions.resources(bare)) session.closeWithError(new StreamError('not-authorized', 'The account was deleted.'));
  return { deleted: bare.toString() };
}

function listSessions(server: ServerContext): SessionInfo[] {
  return [...server.sessions.all()].map((session) => ({
    jid: session.jid!.toString(),
    transport: session.transport.kind,
    ip: session.transport.remoteAddress,
    secure: session.transport.secure,
    available: session.presence !== undefined,
    priority: session.priority,
    since: new Date(session.openedAt).toISOString(),
  }));
}
