import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';

import { TestClient } from './support/client.js';
import { runAsSuperuser, testsUsePostgres } from './support/postgres.js';
import { type TestServer, startTestServer } from './support/server.js';

const PASSWORD = 'secret-pw';

/** What a server does while its PostgreSQL database is unreachable, on PARLEY_TEST_STORAGE=postgres only. */
describe.skipIf(!testsUsePostgres())('a server that loses its PostgreSQL connections', () => {
  let server: TestServer;
  let database: string;
  const clients: TestClient[] = [];

  function getVcard(client: TestClient): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('vCard', NS.VCARD)));
  }

  beforeAll(async () => {
    server = await startTestServer();
    await server.createAccount('alice', PASSWORD);
    const row = await server.server.storage.db
      .selectNoFrom((eb) => eb.fn<string>('current_database').as('name'))
      .executeTakeFirstOrThrow();
    database = row.name;
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await runAsSuperuser(`alter database ${database} allow_connections true`);
    await server.stop();
  });

  it('answers with stanza errors while the database is gone and recovers when it is back', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    clients.push(alice);
    expect((await getVcard(alice)).attrs.type).toBe('result');

    await runAsSuperuser(`alter database ${database} allow_connections false`);
    await runAsSuperuser(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
    const failed = await getVcard(alice);
    expect(failed.attrs.type).toBe('error');
    expect(failed.getChild('error')).toBeDefined();

    await runAsSuperuser(`alter database ${database} allow_connections true`);
    expect((await getVcard(alice)).attrs.type).toBe('result');

    // The process kept running: a new client can still log in.
    const again = await TestClient.connect(server, { username: 'alice', password: PASSWORD, resource: 'second' });
    clients.push(again);
    expect((await getVcard(again)).attrs.type).toBe('result');
  });
});
