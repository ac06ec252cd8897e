/**
 * `parleyctl import` through the running server. parleyctl reads the file with its own
 * permissions and streams the bytes after the request line, so the server never opens a
 * path a client names. The server parses the stream as it arrives (one record in memory at
 * a time, lines up to MAX_LINE_BYTES), runs each row through the account service with the
 * server's hooks, and answers one JSON line per written batch, `{"rows": [...]}`, then
 * `{"done": {counts}}` or `{"error": "..."}`.
 */
import type { Socket } from 'node:net';

import { parseImport } from '../provisioning/import-parse.js';
import { rowToJson } from '../provisioning/import-report.js';
import { importAccounts } from '../provisioning/import.js';
import type { ServerContext } from './context.js';

/** Runs the import whose rows follow the request line on `connection`; `leftover` contains the bytes already read past that line. */
export async function runControlImport(server: ServerContext, connection: Socket, format: unknown, leftover: Buffer): Promise<void> {
  const send = (message: unknown) => {
    if (!connection.destroyed) connection.write(JSON.stringify(message) + '\n');
  };
  if (format !== 'csv' && format !== 'jsonl') {
    send({ error: `unknown import format ${JSON.stringify(format)}: use csv or jsonl` });
    connection.end();
    return;
  }

  const log = server.log.child({ component: 'import', via: 'parleyctl' });
  try {
    const report = await importAccounts(server, parseImport(bytesAfterRequest(connection, leftover), format), {
      log,
      keepRows: false,
      onRows: (rows) => send({ rows: rows.map(rowToJson) }),
    });
    const { total, created, updated, unchanged, failed } = report;
    log.info({ total, created, updated, unchanged, failed }, 'import finished');
    send({ done: { total, created, updated, unchanged, failed } });
  } catch (err) {
    log.error({ err }, 'import failed');
    send({ error: 'the import stopped; rows reported before this are written, and the server log has the cause' });
  }
  connection.end();
}

async function* bytesAfterRequest(connection: Socket, leftover: Buffer): AsyncGenerator<Buffer> {
  if (leftover.length > 0) yield leftover;
  // Reading to the end must not destroy the socket: the report goes back on its writable side.
  for await (const chunk of connection.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
}
