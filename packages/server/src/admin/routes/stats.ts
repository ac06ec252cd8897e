import { stat } from 'node:fs/promises';

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';

import type { ServerContext } from '../../core/context.js';

const StatsSchema = Type.Object({
  accounts: Type.Integer(),
  online_sessions: Type.Integer({ description: 'Bound sessions, hibernating ones included' }),
  connections: Type.Integer({ description: 'Open client connections, bound or not' }),
  rooms: Type.Integer({ description: 'Multi-user chat rooms in storage' }),
  archive: Type.Object({
    messages: Type.Integer({ description: 'Messages in user archives' }),
    room_messages: Type.Integer({ description: 'Messages in room archives' }),
    database_bytes: Type.Integer({ description: 'Size of the SQLite file and its write-ahead log, or of the PostgreSQL database' }),
  }),
  uptime_s: Type.Number({ description: 'Seconds since the server process started' }),
  memory: Type.Object({
    rss_bytes: Type.Integer(),
    heap_used_bytes: Type.Integer(),
    heap_total_bytes: Type.Integer(),
    external_bytes: Type.Integer(),
  }),
});

/** Server statistics. */
export async function statsRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;

  app.get('/stats', { schema: { tags: ['stats'], summary: 'Read server statistics', response: { 200: StatsSchema } } }, async () => {
    const memory = process.memoryUsage();
    return {
      accounts: await server.storage.accounts.count(server.config.domain),
      online_sessions: server.sessions.count(),
      connections: server.connections.size,
      rooms: await countRows(server, 'muc_rooms'),
      archive: {
        messages: await countRows(server, 'archive_messages'),
        room_messages: await countRows(server, 'muc_archive_messages'),
        database_bytes: server.storage.dialect === 'postgres' ? await postgresBytes(server) : await databaseBytes(server.config.storage.path),
      },
      uptime_s: Math.round(process.uptime() * 10) / 10,
      memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed, heap_total_bytes: memory.heapTotal, external_bytes: memory.external },
    };
  });
}

async function countRows(server: ServerContext, table: 'muc_rooms' | 'archive_messages' | 'muc_archive_messages'): Promise<number> {
  const row = await server.storage.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Returns the disk space of the server's PostgreSQL database. */
async function postgresBytes(server: ServerContext): Promise<number> {
  const result = await sql<{ size: number }>`select pg_database_size(current_database()) as size`.execute(server.storage.db);
  return Number(result.rows[0]?.size ?? 0);
}

/** Sums the SQLite file and its -wal file; 0 for an in-memory database. */
async function databaseBytes(path: string): Promise<number> {
  if (path === ':memory:') return 0;
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    total += await stat(file).then(
      (info) => info.size,
      () => 0,
    );
  }
  return total;
}
