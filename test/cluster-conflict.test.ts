import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from './support/client.js';
import { startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;
let clients: TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster(2, ['greg'], { sessions: ['resource_conflict = "reject"', 'max_per_account = 2'] });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 30_000);

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

async function connect(node: number, resource: string): Promise<TestClient> {
  const client = await TestClient.connect(cluster.nodes[node]!.target, { username: 'greg', password: 'greg-pass', transport: 'plain', resource, presence: true });
  clients.push(client);
  return client;
}

describe('session policies across nodes', () => {
  it('rejects a resource bound on another node', async () => {
    const first = await connect(0, 'desk');
    await expect(connect(1, 'desk')).rejects.toThrow(/conflict/);

    const pong = await first.ping();
    expect(pong.attr('type')).toBe('result');
  });

  it('counts sessions on every node against max_per_account', async () => {
    await connect(0, 'one');
    await connect(1, 'two');
    await expect(connect(0, 'three')).rejects.toThrow(/resource-constraint/);
  });
});
