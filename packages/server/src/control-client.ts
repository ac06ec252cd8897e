/** parleyctl's side of the control socket (core/control-socket.ts) of a running server. */
import { createConnection, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Raised when no server accepts connections on the control socket, so parleyctl writes the database itself. */
export class ServerNotRunningError extends Error {}

/** Opens the control socket, or throws ServerNotRunningError when no server listens on it. */
export function connectControl(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socketPath);
    connection.once('connect', () => {
      connection.off('error', onError);
      resolve(connection);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      // A socket file left behind by a server that crashed refuses connections.
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new ServerNotRunningError(`no server is running with the control socket ${socketPath}`));
      else reject(new Error(`cannot reach the server at ${socketPath}: ${err.message}`));
    };
    connection.once('error', onError);
  });
}

/** Yields the JSON lines the server sends until it closes the connection. */
async function* responses(connection: Socket): AsyncGenerator<Record<string, unknown>> {
  let buffered = '';
  connection.setEncoding('utf8');
  for await (const chunk of connection) {
    buffered += chunk as string;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      yield JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      buffered = buffered.slice(newline + 1);
    }
  }
}

/** Sends one request over the control socket of the running server and returns its JSON response. */
export async function controlRequest(socketPath: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const connection = await connectControl(socketPath);
  try {
    connection.end(JSON.stringify(request) + '\n');
    for await (const response of responses(connection)) return response;
    throw new Error('the server closed the control connection without an answer');
  } finally {
    connection.destroy();
  }
}

/** Like controlRequest, but resolves to undefined when no server is running. */
export async function requestIfRunning(socketPath: string, request: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  try {
    return await controlRequest(socketPath, request);
  } catch (err) {
    if (err instanceof ServerNotRunningError) return undefined;
    throw err;
  }
}

/**
 * Streams an import file to the server over an open control connection and hands each
 * batch of report rows to `onRows`; resolves to the server's final counts.
 */
export async function controlImport(connection: Socket, format: string, source: Readable, onRows: (rows: unknown[]) => void): Promise<Record<string, unknown>> {
  connection.write(JSON.stringify({ command: 'import', format }) + '\n');
  source.on('error', (err) => connection.destroy(err));
  source.pipe(connection);

  for await (const response of responses(connection)) {
    if (Array.isArray(response.rows)) onRows(response.rows);
    else if (typeof response.done === 'object' && response.done !== null) return response.done as Record<string, unknown>;
    else throw new Error(typeof response.error === 'string' ? response.error : 'invalid response from the server');
  }
  throw new Error('the server closed the connection before the import finished; the rows reported so far are written, and importing the file again is safe');
}
