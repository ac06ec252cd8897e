import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { answerAccountCommand, type ControlRequest } from './control-commands.js';
import { runControlImport } from './control-import.js';
import type { ServerContext } from './context.js';

/** Maximum length of a request line, in bytes. The import rows after an import request have no such limit. */
const MAX_REQUEST_BYTES = 65_536;

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
 * that `parleyctl` uses to query the running process and to change accounts through it.
 * One JSON request per line, one JSON response per line, answered in order. An `import`
 * request is followed by the file's bytes instead (see control-import.ts).
 */
export async function startControlSocket(server: ServerContext): Promise<Server> {
  const socketPath = controlSocketPath(server.config.data_dir);
  if (existsSync(socketPath)) unlinkSync(socketPath);
  // Half-open, so that parleyctl can end its import stream and still read the report.
  const control = createServer({ allowHalfOpen: true }, (connection) => serveConnection(server, connection));
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return control;
}

function serveConnection(server: ServerContext, connection: Socket): void {
  let buffered = Buffer.alloc(0);
  let answered: Promise<void> = Promise.resolve();
  let importing = false;
  const reply = (response: unknown) => {
    if (!connection.destroyed) connection.write(JSON.stringify(response) + '\n');
  };

  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    let newline: number;
    while ((newline = buffered.indexOf(0x0a)) >= 0) {
      const request = parseRequest(buffered.subarray(0, newline).toString('utf8'));
      buffered = buffered.subarray(newline + 1);
      if (request?.command === 'import') {
        importing = true;
        connection.off('data', onData);
        connection.pause();
        const leftover = buffered;
        answered = answered.then(() => runControlImport(server, connection, request.format, leftover));
        return;
      }
      answered = answered.then(() => answer(server, request).then(reply, (err: unknown) => {
        server.log.error({ err }, 'control command failed');
        reply({ error: 'the command failed; see the server log' });
      }));
    }
    if (buffered.length > MAX_REQUEST_BYTES) connection.destroy();
  };

  connection.on('data', onData);
  connection.on('end', () => {
    if (!importing) void answered.then(() => connection.end());
  });
  connection.on('error', () => connection.destroy());
}

function parseRequest(line: string): ControlRequest | undefined {
  try {
    const request = JSON.parse(line) as unknown;
    return typeof request === 'object' && request !== null ? (request as ControlRequest) : undefined;
  } catch {
    return undefined;
  }
}

async function answer(server: ServerContext, request: ControlRequest | undefined): Promise<unknown> {
  if (request === undefined) return { error: 'invalid JSON request' };
  if (request.command === 'sessions') return { sessions: listSessions(server) };
  return (await answerAccountCommand(server, request)) ?? { error: `unknown command ${JSON.stringify(request.command)}` };
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
