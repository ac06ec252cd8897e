/** The account commands of the control socket: parleyctl's changes run inside the server, with its hooks. */
import { jid } from '@parley/xmpp';

import { AccountError, changePassword, createAccount } from '../accounts.js';
import { ApiProblem } from '../admin/problem.js';
import { deleteAccount } from '../provisioning/accounts-service.js';
import { replayOutbox } from '../provisioning/outbox.js';
import type { ServerContext } from './context.js';

/** A control request as parsed from its JSON line. */
export interface ControlRequest {
  command?: unknown;
  username?: unknown;
  password?: unknown;
  format?: unknown;
}

/** Answers an account command, or returns undefined when `request` is none. */
export async function answerAccountCommand(server: ServerContext, request: ControlRequest): Promise<unknown> {
  const { command, username, password } = request;
  try {
    if (command === 'create-account' && typeof username === 'string' && typeof password === 'string') {
      return { created: jid(await createAccount(server, username, password), server.config.domain).toString() };
    }
    if (command === 'set-password' && typeof username === 'string' && typeof password === 'string') return await setPassword(server, username, password);
    if (command === 'delete-account' && typeof username === 'string') return await removeAccount(server, username);
    if (command === 'replay-outbox') return { replayed: await replayOutbox(server) };
  } catch (err) {
    if (err instanceof AccountError) return { error: err.message };
    if (err instanceof ApiProblem && err.status < 500) return { error: err.detail ?? err.title };
    throw err;
  }
  return undefined;
}

async function setPassword(server: ServerContext, username: string, password: string): Promise<unknown> {
  if (!(await server.storage.accounts.exists(server.config.domain, username))) return { error: `no account ${username}@${server.config.domain}` };
  await changePassword(server, username, password);
  return { changed: jid(username, server.config.domain).toString() };
}

/** Deletes an account inside the running server, so that its hooks run and its sessions end. */
async function removeAccount(server: ServerContext, username: string): Promise<unknown> {
  if (!(await server.storage.accounts.exists(server.config.domain, username))) return { error: `no account ${username}@${server.config.domain}` };
  await deleteAccount(server, username);
  return { deleted: jid(username, server.config.domain).toString() };
}
