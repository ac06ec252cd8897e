import { afterEach, describe, expect, it } from 'vitest';
import { deleteAccount } from '../packages/server/src/accounts.js';
import { uploadServiceOf } from '../packages/server/src/modules/upload/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { NS_UPLOAD, type TestSlot, errorCondition, local, readSlot, requestSlot, upload } from './support/upload.js';

const PASSWORD = 'lifecycle-pw';
const DAY_MS = 86_400_000;

function idOf(slot: TestSlot): string {
  return new URL(slot.putUrl).pathname.split('/')[2]!;
}

describe('HTTP file upload: quota, expiry and deletion', () => {
  let server: TestServer | undefined;
  const clients: TestClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await server?.stop();
    server = undefined;
  });

  async function start(upload: Record<string, unknown>): Promise<{ server: TestServer; alice: TestClient }> {
    server = await startTestServer({ upload });
    await server.createAccount('alice', PASSWORD);
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    clients.push(alice);
    return { server, alice };
  }

  function attached(running: TestServer) {
    return uploadServiceOf(running.server)!;
  }

  it('refuses with not-allowed over the quota when nothing expires, counting pending slots', async () => {
    const { server, alice } = await start({ quota_bytes: 1000 });
    await upload(server, alice, 'first.bin', new Uint8Array(600));
    readSlot(await requestSlot(alice, { filename: 'pending.bin', size: 300 }));

    const over = await requestSlot(alice, { filename: 'second.bin', size: 200 });
    expect(errorCondition(over)).toBe('not-allowed');
    expect(over.getChild('error')!.attr('type')).toBe('cancel');

    const larger = await requestSlot(alice, { filename: 'huge.bin', size: 1001 });
    expect(errorCondition(larger)).toBe('not-allowed');
    readSlot(await requestSlot(alice, { filename: 'fits.bin', size: 100 }));
  });

  it('gives a retry stamp when files expire', async () => {
    const { server, alice } = await start({ quota_bytes: 1000, expire_after_days: 7 });
    const first = await upload(server, alice, 'first.bin', new Uint8Array(600));
    const storedAt = (await server.server.storage.uploads.get(idOf(first)))!.storedAt!;

    const over = await requestSlot(alice, { filename: 'second.bin', size: 600 });
    expect(errorCondition(over)).toBe('resource-constraint');
    const error = over.getChild('error')!;
    expect(error.attr('type')).toBe('wait');
    const stamp = error.getChild('retry', NS_UPLOAD)!.attr('stamp')!;
    expect(Math.abs(Date.parse(stamp) - (storedAt + 7 * DAY_MS))).toBeLessThan(1000);

    // Eight days later the sweep deletes the file, its thumbnails and its row.
    await server.server.storage.uploads.setStoredAt(idOf(first), storedAt - 8 * DAY_MS);
    const result = await attached(server).sweeper.sweep();
    expect(result.expired).toBe(1);
    expect((await fetch(local(server, first.getUrl))).status).toBe(404);
    expect(await attached(server).service.store.stat(idOf(first))).toBeUndefined();
    expect(await server.server.storage.uploads.get(idOf(first))).toBeUndefined();

    readSlot(await requestSlot(alice, { filename: 'second.bin', size: 600 }));
  });

  it('keeps files when expire_after_days is 0', async () => {
    const { server, alice } = await start({});
    const slot = await upload(server, alice, 'keep.bin', new Uint8Array(10));
    await server.server.storage.uploads.setStoredAt(idOf(slot), Date.now() - 3650 * DAY_MS);
    expect((await attached(server).sweeper.sweep()).expired).toBe(0);
    expect((await fetch(local(server, slot.getUrl))).status).toBe(200);
  });

  it('removes slots that were never used once their lifetime ends', async () => {
    const { server, alice } = await start({ slot_lifetime_s: 60 });
    const slot = readSlot(await requestSlot(alice, { filename: 'never.bin', size: 10 }));
    const { service, sweeper } = attached(server);
    expect((await sweeper.sweep()).slots).toBe(0);

    const realNow = service.clock.now;
    service.clock.now = () => realNow() + 61_000;
    try {
      expect((await sweeper.sweep()).slots).toBe(1);
    } finally {
      service.clock.now = realNow;
    }
    expect(await server.server.storage.uploads.get(idOf(slot))).toBeUndefined();
  });

  it('deletes the files of a deleted account', async () => {
    const { server, alice } = await start({});
    const image = await upload(server, alice, 'mine.png', new Uint8Array(20), 'image/png');
    const pending = readSlot(await requestSlot(alice, { filename: 'later.bin', size: 5 }));
    await alice.close();
    clients.length = 0;

    await deleteAccount(server.server, 'alice');
    expect(await server.server.storage.uploads.get(idOf(image))).toBeUndefined();
    expect(await server.server.storage.uploads.get(idOf(pending))).toBeUndefined();
    expect(await attached(server).service.store.stat(idOf(image))).toBeUndefined();
    expect((await fetch(local(server, image.getUrl))).status).toBe(404);
  });

  it('deletes stored files without a row when it walks the store', async () => {
    const { server, alice } = await start({});
    const kept = await upload(server, alice, 'kept.bin', new Uint8Array(3));
    const { service, sweeper } = attached(server);
    await service.store.put('STRAYSTRAYSTRAYSTRAYSTRA', [new Uint8Array(4)], 4);
    await service.store.put('STRAYSTRAYSTRAYSTRAYSTRA.t160', [new Uint8Array(4)], 4);

    expect((await sweeper.sweep(true)).strayFiles).toBe(2);
    expect(await service.store.stat('STRAYSTRAYSTRAYSTRAYSTRA')).toBeUndefined();
    expect(await service.store.stat(idOf(kept))).toBeDefined();
  });

  it('serves files after a restart', async () => {
    const { server, alice } = await start({});
    const slot = await upload(server, alice, 'durable.txt', new TextEncoder().encode('still here'), 'text/plain');
    await alice.close();
    clients.length = 0;
    await server.restart();
    const response = await fetch(local(server, slot.getUrl));
    expect(await response.text()).toBe('still here');
  });

  it('stops promptly after downloads', async () => {
    // A download that finishes just as the listener closes must not hold the close for the keep-alive timeout.
    for (let round = 0; round < 3; round++) {
      const running = await startTestServer();
      await running.createAccount('alice', PASSWORD);
      const alice = await TestClient.connect(running, { username: 'alice', password: PASSWORD });
      const slot = await upload(running, alice, 'a.txt', new Uint8Array(10), 'text/plain');
      await alice.close();
      await (await fetch(local(running, slot.getUrl))).text();

      const started = Date.now();
      await running.stop();
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('accepts only allow_types when they are set', async () => {
    const { alice } = await start({ allow_types: ['image/*', 'application/pdf'] });
    readSlot(await requestSlot(alice, { filename: 'a.png', size: 5, 'content-type': 'image/png' }));
    readSlot(await requestSlot(alice, { filename: 'a.pdf', size: 5, 'content-type': 'application/pdf' }));
    expect(errorCondition(await requestSlot(alice, { filename: 'a.zip', size: 5, 'content-type': 'application/zip' }))).toBe('not-acceptable');
    // The deny list still wins over a wildcard.
    expect(errorCondition(await requestSlot(alice, { filename: 'a.svg', size: 5, 'content-type': 'image/svg+xml' }))).toBe('not-acceptable');
    // No content-type means application/octet-stream, which this list does not allow.
    expect(errorCondition(await requestSlot(alice, { filename: 'a.bin', size: 5 }))).toBe('not-acceptable');
  });

  it('uses the HTTPS listener in URLs when HTTP is off', async () => {
    server = await startTestServer({ listen: { http_port: false } });
    await server.createAccount('alice', PASSWORD);
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    clients.push(alice);
    const slot = readSlot(await requestSlot(alice, { filename: 'a.txt', size: 1 }));
    expect(new URL(slot.putUrl).origin).toBe(`https://${server.domain}:${server.httpsPort}`);
  });

  it('uses upload.public_url in URLs when set', async () => {
    const { alice } = await start({ public_url: 'https://files.example.test/xmpp' });
    const slot = readSlot(await requestSlot(alice, { filename: 'a b.txt', size: 1 }));
    expect(slot.getUrl).toMatch(/^https:\/\/files\.example\.test\/xmpp\/upload\/[A-Za-z0-9_-]{24}\/a%20b\.txt$/);
  });

  it('serves nothing and lists no service when disabled', async () => {
    const { server, alice } = await start({ enabled: false });
    expect(uploadServiceOf(server.server)).toBeUndefined();
    const reply = await requestSlot(alice, { filename: 'a.txt', size: 1 });
    expect(reply.attr('type')).toBe('error');
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/upload/AAAAAAAAAAAAAAAAAAAAAAAA/a.txt`)).status).toBe(404);
  });
});
