import { describe, expect, it } from 'vitest';
import { useTestCluster } from './support/cluster.js';

const env = useTestCluster(2, ['greg'], { sessions: ['resource_conflict = "reject"', 'max_per_account = 2'] });
const connect = (node: number, resource: string) => env.connect(node, 'greg', { resource });

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
