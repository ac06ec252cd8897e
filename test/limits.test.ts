import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { RawConnection, delay, streamErrorCondition } from './support/raw.js';

const PASSWORD = 'limits-password';
const RATE = 20;
const BURST = 5;
const PINGS = 40;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ sessions: { stanzas_per_second: RATE, stanza_burst: BURST, auth_timeout_s: 1 } });
  await server.createAccount('alice', PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

describe('stanza rate limit', () => {
  it('slows a burst down and answers every ping in order', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < PINGS; i++) {
      ids.push(`burst-${i}`);
      alice.send(x('iq', NS.CLIENT, { type: 'get', id: `burst-${i}`, to: server.domain }, x('ping', NS.PING)));
    }

    const replies: string[] = [];
    for (let i = 0; i < PINGS; i++) {
      const reply = await alice.next((el) => el.name === 'iq', 5000);
      expect(reply.attr('type')).toBe('result');
      replies.push(reply.attr('id') ?? '');
    }
    const elapsedMs = performance.now() - started;

    expect(replies).toEqual(ids);
    // The bucket lets BURST stanzas through at once and the rest at RATE per second.
    expect(elapsedMs).toBeGreaterThan((((PINGS - BURST) / RATE) * 1000) * 0.8);
    await alice.close();
  });
});

describe('storage back-pressure', () => {
  it('stops reading while the writer is congested', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    const { batch } = server.server.storage;

    // One write that keeps its batch open, then enough small ones to congest the queue behind it.
    let release = () => {};
    const blocking = batch.write(() => new Promise<void>((resolve) => (release = resolve)));
    const queued: Promise<unknown>[] = [];
    while (!batch.congested) queued.push(batch.write(async () => undefined));

    const reply = alice.ping();
    await alice.nothing((el) => el.name === 'iq', 300);
    release();
    expect((await reply).attr('type')).toBe('result');
    await Promise.all([blocking, ...queued]);
    expect(batch.congested).toBe(false);
    await alice.close();
  });
});

describe('auth timeout', () => {
  it('closes an idle unauthenticated connection with connection-timeout', async () => {
    const connection = await RawConnection.tcp(server.c2sPort);
    await connection.openStream();
    await connection.nothing((el) => streamErrorCondition(el) !== undefined, 500);
    expect(await connection.streamError(3000)).toBe('connection-timeout');
    await connection.waitForClose(3000);
  });

  it('leaves an authenticated session open', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    await delay(1500);
    expect((await alice.ping()).attr('type')).toBe('result');
    await alice.close();
  });
});
