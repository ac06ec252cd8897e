import { describe, expect, it } from 'vitest';
import { x } from './element.js';
import { StreamManagement } from './stream-management.js';

describe('StreamManagement', () => {
  it('resolves acknowledged stanzas in order and keeps the rest', async () => {
    const sm = new StreamManagement();
    sm.enable('token');
    const settled: string[] = [];
    for (const id of ['1', '2', '3']) {
      const done = new Promise<void>((resolve, reject) => sm.written({ stanza: x('message', 'jabber:client', { id }), acked: { resolve, reject } }));
      void done.then(() => settled.push(id));
    }
    expect(sm.acknowledge(2)).toBe(true);
    await Promise.resolve();
    expect(settled).toEqual(['1', '2']);
    expect(sm.unacked.map((item) => item.stanza.attr('id'))).toEqual(['3']);
  });

  it('refuses an h beyond what was sent', () => {
    const sm = new StreamManagement();
    sm.enable('token');
    sm.written({ stanza: x('message', 'jabber:client') });
    expect(sm.acknowledge(2)).toBe(false);
  });

  it('counts across the 2^32 wrap', () => {
    const sm = new StreamManagement();
    sm.enable('token');
    sm.inbound = 2 ** 32 - 1;
    sm.received();
    expect(sm.inbound).toBe(0);
  });

  it('rejects what waits when the session is lost', async () => {
    const sm = new StreamManagement();
    sm.enable('token');
    const done = new Promise<void>((resolve, reject) => sm.written({ stanza: x('message', 'jabber:client'), acked: { resolve, reject } }));
    sm.reset(new Error('lost'));
    await expect(done).rejects.toThrow('lost');
    expect(sm.resumeId).toBeUndefined();
  });
});
