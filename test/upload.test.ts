import { connect } from 'node:net';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { uploadServiceOf } from '../packages/server/src/modules/upload/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { delay } from './support/raw.js';
import {
  NS_UPLOAD,
  UPLOAD_DOMAIN,
  type TestSlot,
  componentIq,
  errorCondition,
  local,
  putFile,
  readSlot,
  requestSlot,
  slotFor,
} from './support/upload.js';
import { connectComponent } from './support/component.js';

const PASSWORD = 'upload-pw';
const BRIDGE = 'bridge.example.test';
const BRIDGE_SECRET = 'bridge secret';
const MAX = 3 * 1024 * 1024;

function formValue(query: Element, name: string): string | undefined {
  const form = query.getChild('x', NS.DATA_FORMS);
  return form?.getChildren('field', NS.DATA_FORMS).find((field) => field.attr('var') === name)?.getChildText('value', NS.DATA_FORMS);
}

function idOf(slot: TestSlot): string {
  return new URL(slot.putUrl).pathname.split('/')[2]!;
}

describe('HTTP file upload: slots and PUT', () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    server = await startTestServer({
      listen: { component_port: 0 },
      components: [{ domain: BRIDGE, secret: BRIDGE_SECRET }],
      // An empty public_url keeps the default, derived from the domain and the listener.
      upload: { public_url: '', max_file_bytes: MAX, slots_per_minute: 1000 },
    });
    await server.createAccount('alice', PASSWORD);
    await server.createAccount('bob', PASSWORD);
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    bob = await TestClient.connect(server, { username: 'bob', password: PASSWORD });
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.stop();
  });

  /** Reads the row state and whether a file exists; nothing stored means state 'slot' and no file. */
  async function stored(slot: TestSlot): Promise<{ state: string | undefined; file: boolean }> {
    const id = idOf(slot);
    const row = await server.server.storage.uploads.get(id);
    const file = await uploadServiceOf(server.server)!.service.store.stat(id);
    return { state: row?.state, file: file !== undefined };
  }

  it('is listed in disco#items with identity store/file, the feature and max-file-size', async () => {
    const items = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_ITEMS)));
    const jids = items.getChild('query', NS.DISCO_ITEMS)!.getChildren('item', NS.DISCO_ITEMS).map((item) => item.attr('jid'));
    expect(jids).toContain(UPLOAD_DOMAIN);

    const info = (await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: UPLOAD_DOMAIN }, x('query', NS.DISCO_INFO)))).getChild('query', NS.DISCO_INFO)!;
    const identity = info.getChild('identity', NS.DISCO_INFO)!;
    expect([identity.attr('category'), identity.attr('type')]).toEqual(['store', 'file']);
    expect(info.getChildren('feature', NS.DISCO_INFO).map((feature) => feature.attr('var'))).toContain(NS_UPLOAD);
    expect(formValue(info, 'FORM_TYPE')).toBe(NS_UPLOAD);
    expect(formValue(info, 'max-file-size')).toBe(String(MAX));
  });

  it('gives a slot with a random id and secret', async () => {
    const slot = await slotFor(alice, 'holiday photo.jpg', 1234, 'image/jpeg');
    expect(slot.putUrl).toBe(slot.getUrl);
    const url = new URL(slot.putUrl);
    expect(url.origin).toBe(`http://${server.domain}:${server.httpPort}`);
    expect(url.pathname).toMatch(/^\/upload\/[A-Za-z0-9_-]{24}\/holiday%20photo\.jpg$/);
    expect(slot.authorization).toMatch(/^Bearer [A-Za-z0-9_-]{43}$/);

    const other = await slotFor(alice, 'holiday photo.jpg', 1234, 'image/jpeg');
    expect(idOf(other)).not.toBe(idOf(slot));

    // Only a hash of the secret is stored.
    const row = await server.server.storage.uploads.get(idOf(slot));
    expect(row).toMatchObject({ username: 'alice', filename: 'holiday photo.jpg', size: 1234, contentType: 'image/jpeg', state: 'slot' });
    expect(row!.secretHash).not.toContain(slot.authorization.slice(7));
  });

  it('refuses a file over max-file-size with file-too-large', async () => {
    const reply = await requestSlot(alice, { filename: 'big.bin', size: MAX + 1 });
    expect(reply.attr('type')).toBe('error');
    const error = reply.getChild('error')!;
    expect(error.attr('type')).toBe('modify');
    expect(errorCondition(reply)).toBe('not-acceptable');
    expect(error.getChild('file-too-large', NS_UPLOAD)?.getChildText('max-file-size', NS_UPLOAD)).toBe(String(MAX));
  });

  it('refuses script-capable content types with not-acceptable', async () => {
    for (const type of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'TEXT/HTML; charset=utf-8']) {
      const reply = await requestSlot(alice, { filename: 'page.html', size: 10, 'content-type': type });
      expect(errorCondition(reply), type).toBe('not-acceptable');
    }
  });

  it('refuses bad file names, sizes and content types with bad-request', async () => {
    const cases: Record<string, string | number | undefined>[] = [
      { filename: '', size: 10 },
      { filename: '   ', size: 10 },
      { filename: 'a/b.txt', size: 10 },
      { filename: '..', size: 10 },
      { filename: 'evil\u202egpj.exe', size: 10 },
      { filename: `${'长'.repeat(86)}.txt`, size: 10 },
      { size: 10 },
      { filename: 'a.txt' },
      { filename: 'a.txt', size: '-1' },
      { filename: 'a.txt', size: 'ten' },
      { filename: 'a.txt', size: 10, 'content-type': 'not a type' },
    ];
    for (const attrs of cases) {
      const reply = await requestSlot(alice, attrs as never);
      expect(errorCondition(reply), JSON.stringify(attrs)).toBe('bad-request');
    }

    // A control character, written as a character reference so the XML carries it.
    const reply = alice.next((el) => el.attr('id') === 'ctl-1');
    alice.send(`<iq type='get' id='ctl-1' to='${UPLOAD_DOMAIN}'><request xmlns='${NS_UPLOAD}' filename='a&#9;b.txt' size='3'/></iq>`);
    expect(errorCondition(await reply)).toBe('bad-request');
  });

  it('refuses senders that are not accounts of the server', async () => {
    const component = await connectComponent(server.server.addresses.component!, BRIDGE, BRIDGE_SECRET);
    try {
      const iq = x('iq', NS.CLIENT, { type: 'get', to: UPLOAD_DOMAIN, from: `eve@${BRIDGE}` }, x('request', NS_UPLOAD, { filename: 'a.txt', size: '3' }));
      const reply = await componentIq(component, iq, 'remote-slot');
      expect(errorCondition(reply)).toBe('forbidden');
    } finally {
      component.destroy();
    }
  });

  it('stores a PUT and serves it', async () => {
    const body = new TextEncoder().encode('hello, upload');
    const slot = await slotFor(alice, 'hello.txt', body.length, 'text/plain');
    const response = await putFile(server, slot, body, 'text/plain');
    expect(response.status).toBe(201);
    expect(await stored(slot)).toEqual({ state: 'stored', file: true });

    const got = await fetch(local(server, slot.getUrl));
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('hello, upload');
  });

  it('streams a file larger than the HTTP body limit', async () => {
    const body = new Uint8Array(2 * 1024 * 1024 + 17).map((_, i) => i % 251);
    const slot = await slotFor(alice, 'large.bin', body.length);
    expect((await putFile(server, slot, body)).status).toBe(201);
    const got = new Uint8Array(await (await fetch(local(server, slot.getUrl))).arrayBuffer());
    expect(got.length).toBe(body.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(body))).toBe(0);
  });

  it('refuses PUTs without the right secret, and stores nothing', async () => {
    const body = new Uint8Array([1, 2, 3]);
    const slot = await slotFor(alice, 'secret.bin', 3);
    const bobSlot = await slotFor(bob, 'other.bin', 3);

    const missing = await fetch(local(server, slot.putUrl), { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await missing.json()) as unknown).toMatchObject({ status: 401, title: 'Unauthorized' });

    const wrong = await putFile(server, { ...slot, authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body);
    expect(wrong.status).toBe(403);
    const others = await putFile(server, { ...slot, authorization: bobSlot.authorization }, body);
    expect(others.status).toBe(403);
    expect(await stored(slot)).toEqual({ state: 'slot', file: false });
  });

  it('uses a slot once', async () => {
    const body = new Uint8Array([4, 5, 6]);
    const slot = await slotFor(alice, 'once.bin', 3);
    expect((await putFile(server, slot, body)).status).toBe(201);
    const again = await putFile(server, slot, new Uint8Array([7, 8, 9]));
    expect(again.status).toBe(409);
    expect(new Uint8Array(await (await fetch(local(server, slot.getUrl))).arrayBuffer())).toEqual(body);
  });

  it('refuses a PUT after the slot lifetime', async () => {
    const slot = await slotFor(alice, 'late.bin', 3);
    const { service } = uploadServiceOf(server.server)!;
    const realNow = service.clock.now;
    service.clock.now = () => realNow() + 301_000;
    try {
      const response = await putFile(server, slot, new Uint8Array([1, 2, 3]));
      expect(response.status).toBe(410);
    } finally {
      service.clock.now = realNow;
    }
    expect(await stored(slot)).toEqual({ state: 'slot', file: false });
  });

  it('refuses a wrong size or type, and a body without Content-Length', async () => {
    const slot = await slotFor(alice, 'sized.bin', 10, 'application/pdf');
    const shorter = await putFile(server, slot, new Uint8Array(9), 'application/pdf');
    expect(shorter.status).toBe(400);
    const longer = await putFile(server, slot, new Uint8Array(11), 'application/pdf');
    expect(longer.status).toBe(413);
    const wrongType = await putFile(server, slot, new Uint8Array(10), 'image/png');
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { detail: string }).detail).toContain('application/pdf');

    const chunked = await fetch(local(server, slot.putUrl), {
      method: 'PUT',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(10));
          controller.close();
        },
      }),
      headers: { Authorization: slot.authorization, 'Content-Type': 'application/pdf' },
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    expect(await stored(slot)).toEqual({ state: 'slot', file: false });

    // The slot is still good for a correct PUT.
    expect((await putFile(server, slot, new Uint8Array(10), 'application/pdf')).status).toBe(201);
  });

  it('keeps nothing of a PUT cut off halfway, and takes the slot again', async () => {
    const size = 256 * 1024;
    const slot = await slotFor(alice, 'cut.bin', size);
    const url = new URL(local(server, slot.putUrl));

    const socket = connect(Number(url.port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(`PUT ${url.pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${slot.authorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
    socket.write(Buffer.alloc(size / 2, 7));
    const { service } = uploadServiceOf(server.server)!;
    for (let i = 0; i < 100 && !service.uploading.has(idOf(slot)); i++) await delay(10);
    expect(service.uploading.has(idOf(slot))).toBe(true);
    socket.destroy();

    for (let i = 0; i < 100 && service.uploading.has(idOf(slot)); i++) await delay(10);
    expect(await stored(slot)).toEqual({ state: 'slot', file: false });
    const temp = await readdir(path.join(server.dataDir, 'uploads', '.tmp'));
    expect(temp).toEqual([]);

    expect((await putFile(server, slot, new Uint8Array(size))).status).toBe(201);
  });

  it('accepts a PUT without Content-Type for an untyped slot', async () => {
    const slot = await slotFor(alice, 'untyped.bin', 4);
    const response = await fetch(local(server, slot.putUrl), { method: 'PUT', body: new Uint8Array([1, 2, 3, 4]), headers: { Authorization: slot.authorization } });
    expect(response.status).toBe(201);
    const got = await fetch(local(server, slot.getUrl));
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('answers 500 when the disk write fails, and keeps running', async () => {
    const temp = path.join(server.dataDir, 'uploads', '.tmp');
    const slot = await slotFor(alice, 'failing.bin', 4);
    // A file where the folder of partial uploads should be makes every write fail.
    await rm(temp, { recursive: true, force: true });
    await writeFile(temp, '');
    try {
      const response = await putFile(server, slot, new Uint8Array(4));
      expect(response.status).toBe(500);
      const problem = (await response.json()) as { incident?: string; detail: string };
      expect(problem.incident).toMatch(/^[0-9a-f-]{36}$/);
      expect(problem.detail).toContain(problem.incident);
      expect(await stored(slot)).toEqual({ state: 'slot', file: false });
    } finally {
      await rm(temp, { force: true });
      await mkdir(temp);
    }
    expect((await putFile(server, slot, new Uint8Array(4))).status).toBe(201);
  });

  it('answers problem documents for unknown slots and other paths', async () => {
    const unknown = await fetch(`http://127.0.0.1:${server.httpPort}/upload/AAAAAAAAAAAAAAAAAAAAAAAA/x.txt`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const short = await fetch(`http://127.0.0.1:${server.httpPort}/upload/abc`);
    expect(short.status).toBe(404);
    expect(short.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('limits slot requests per account and minute', async () => {
    const limited = await startTestServer({ upload: { slots_per_minute: 2 } });
    await limited.createAccount('carol', PASSWORD);
    const carol = await TestClient.connect(limited, { username: 'carol', password: PASSWORD });
    try {
      readSlot(await requestSlot(carol, { filename: 'a.txt', size: 1 }));
      readSlot(await requestSlot(carol, { filename: 'b.txt', size: 1 }));
      const reply = await requestSlot(carol, { filename: 'c.txt', size: 1 });
      expect(errorCondition(reply)).toBe('resource-constraint');
      expect(reply.getChild('error')!.attr('type')).toBe('wait');
      const stamp = reply.getChild('error')!.getChild('retry', NS_UPLOAD)?.attr('stamp');
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const wait = Date.parse(stamp!) - Date.now();
      expect(wait).toBeGreaterThan(50_000);
      expect(wait).toBeLessThanOrEqual(61_000);
    } finally {
      await carol.close();
      await limited.stop();
    }
  });
});
