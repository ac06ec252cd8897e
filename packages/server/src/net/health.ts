/** The `/health` check that load balancers and monitoring poll. */
import { sql } from 'kysely';
import type { ServerContext } from '../core/context.js';

/** Time each part has to reply before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

type PartState = 'ok' | 'failed';

export interface HealthReport {
  status: 'ok' | 'failing';
  sessions: number;
  storage: PartState;
  /** Redis, in a cluster. */
  cluster?: PartState;
}

/** Checks that the database replies, and Redis in a cluster, because a node that cannot reach one should get no new clients. */
export async function checkHealth(server: ServerContext): Promise<HealthReport> {
  const { cluster } = server;
  const [storage, redis] = await Promise.all([
    probe(async () => {
      await sql`select 1`.execute(server.storage.db);
    }),
    cluster === undefined
      ? undefined
      : probe(async () => {
          await cluster.redis.ping();
        }),
  ]);
  const report: HealthReport = { status: storage === 'ok' && redis !== 'failed' ? 'ok' : 'failing', sessions: server.sessions.count(), storage };
  if (redis !== undefined) report.cluster = redis;
  if (report.status === 'failing') server.log.warn({ storage, cluster: redis }, 'health check failed');
  return report;
}

async function probe(check: () => Promise<void>): Promise<PartState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PartState>((resolve) => {
    timer = setTimeout(() => resolve('failed'), CHECK_TIMEOUT_MS);
  });
  const checked = check().then(
    (): PartState => 'ok',
    (): PartState => 'failed',
  );
  const state = await Promise.race([checked, timeout]);
  clearTimeout(timer);
  return state;
}
