import { describe, expect, it } from 'vitest';
import { useTestCluster } from './support/cluster.js';

const WAIT_MS = 5000;

const env = useTestCluster(2, ['alice', 'bob', 'carol'], { http: true });
const connect = (node: number, user: string, resource: string) => env.connect(node, user, { resource });

/** Sends an admin API request to node `node`. */
async function api(node: number, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${env.cluster.nodes[node]!.httpPort}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${env.cluster.apiToken}` },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('admin API in a cluster', () => {
  it('lists sessions of every node', async () => {
    await connect(0, 'alice', 'desk');
    await connect(1, 'alice', 'phone');
    const { status, body } = await api(0, 'GET', '/sessions?username=alice');
    expect(status).toBe(200);
    const items = (body as { items: { jid: string; node: string; transport: string }[] }).items;
    expect(items.map((item) => [item.jid, item.node])).toEqual([
      ['alice@example.test/desk', 'node-0'],
      ['alice@example.test/phone', 'node-1'],
    ]);
    expect(items[1]!.transport).toBe('tcp');
  });

  it('ends a session on another node', async () => {
    const phone = await connect(1, 'bob', 'phone');
    const { status } = await api(0, 'DELETE', `/sessions/${encodeURIComponent('bob@example.test/phone')}`);
    expect(status).toBe(204);
    expect(await phone.streamError()).toBe('policy-violation');
  });

  it('disabling ends sessions everywhere', async () => {
    const desk = await connect(0, 'carol', 'desk');
    const phone = await connect(1, 'carol', 'phone');
    expect((await api(0, 'POST', '/accounts/carol:disable')).status).toBe(204);
    expect(await desk.streamError()).toBe('not-authorized');
    expect(await phone.streamError()).toBe('not-authorized');
  });
});

// Stops Redis, so it runs last.
describe('health in a cluster', () => {
  it('fails without Redis', async () => {
    const url = `http://127.0.0.1:${env.cluster.nodes[0]!.httpPort}/health`;
    const healthy = await fetch(url, { signal: AbortSignal.timeout(WAIT_MS) });
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ status: 'ok', storage: 'ok', cluster: 'ok' });

    await env.cluster.redis.stop();
    const failing = await fetch(url, { signal: AbortSignal.timeout(WAIT_MS) });
    expect(failing.status).toBe(503);
    expect(await failing.json()).toMatchObject({ status: 'failing', storage: 'ok', cluster: 'failed' });
  });
});
