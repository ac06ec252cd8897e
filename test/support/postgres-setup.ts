import { ADMIN_URL_VARIABLE, startPostgresCluster, testsUsePostgres } from './postgres.js';

/**
 * Vitest global setup: with PARLEY_TEST_STORAGE=postgres, starts one PostgreSQL cluster for
 * the whole run and tells the test workers where it is; stops it when the run ends.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!testsUsePostgres()) return undefined;

  const cluster = await startPostgresCluster();
  process.env[ADMIN_URL_VARIABLE] = cluster.adminUrl;
  return () => cluster.stop();
}
