import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFrame, x, XmppStanzaError, type XElement } from '../xmpp/index.js';
import { ChatStore } from './chat-store.js';
import { NS } from './ns.js';
import { FILE_NS } from './oob.js';
import { PendingUploads } from './pending-uploads.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import { TestConnection } from './test-connection.js';
import { checkSize, discoverUploadService, putFailure, readServiceInfo, readSlot, requestSlot, slotError, UPLOAD_NS, UploadError } from './upload-service.js';

const ME = 'alice@example.test';
const BOB = 'bob@example.test';
const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';

const dbs: ParleyDb[] = [];
const stores: ChatStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const db of dbs.splice(0)) {
    db.close();
    await db.delete();
  }
});

function serviceInfo(max?: number): XElement {
  const query = x('query', INFO, {}, x('identity', INFO, { category: 'store', type: 'file' }), x('feature', INFO, { var: UPLOAD_NS }));
  if (max !== undefined) {
    query.append(x('x', NS.DATA, { type: 'result' },
      x('field', NS.DATA, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA, {}, UPLOAD_NS)),
      x('field', NS.DATA, { var: 'max-file-size' }, x('value', NS.DATA, {}, String(max)))));
  }
  return x('iq', NS.CLIENT, { type: 'result' }, query);
}

function iqError(condition: string, ...extra: XElement[]): XmppStanzaError {
  const error = x('error', NS.CLIENT, { type: 'modify' }, x(condition, 'urn:ietf:params:xml:ns:xmpp-stanzas'), ...extra);
  return new XmppStanzaError(x('iq', NS.CLIENT, { type: 'error' }, error));
}

describe('the upload service', () => {
  it('is found among the domain items with its size limit', async () => {
    const conn = new TestConnection(ME);
    const asked: string[] = [];
    conn.iqHandler = (request) => {
      asked.push(`${request.attr('to')} ${request.elements()[0]?.ns}`);
      if (request.getChild('query', ITEMS)) return x('iq', NS.CLIENT, { type: 'result' }, x('query', ITEMS, {}, x('item', ITEMS, { jid: 'conference.example.test' }), x('item', ITEMS, { jid: 'upload.example.test' })));
      if (request.attr('to') === 'upload.example.test') return serviceInfo(1000);
      return x('iq', NS.CLIENT, { type: 'result' }, x('query', INFO));
    };
    expect(await discoverUploadService(conn)).toEqual({ jid: 'upload.example.test', maxFileSize: 1000 });
    expect(asked[0]).toBe(`example.test ${ITEMS}`);
  });

  it('reads limit and feature from disco#info', () => {
    expect(readServiceInfo('u', serviceInfo())).toEqual({ jid: 'u' });
    expect(readServiceInfo('u', x('iq', NS.CLIENT, { type: 'result' }, x('query', INFO)))).toBeUndefined();
  });

  it('refuses a file over the limit before any request', () => {
    expect(checkSize(1001, { jid: 'u', maxFileSize: 1000 })).toMatchObject({ failure: 'too-large', maxFileSize: 1000 });
    expect(checkSize(1000, { jid: 'u', maxFileSize: 1000 })).toBeUndefined();
    expect(checkSize(10 ** 12, { jid: 'u' })).toBeUndefined();
  });

  it('reads a slot and keeps only the headers XEP-0363 allows', () => {
    const reply = parseFrame(`<iq xmlns='jabber:client' type='result'><slot xmlns='${UPLOAD_NS}'><put url='https://u.test/p/1'><header name='Authorization'>Bearer abc</header><header name='Host'>evil</header></put><get url='https://u.test/g/1'/></slot></iq>`);
    expect(readSlot(reply)).toEqual({ putUrl: 'https://u.test/p/1', getUrl: 'https://u.test/g/1', headers: { Authorization: 'Bearer abc' } });
    const bad = parseFrame(`<iq xmlns='jabber:client' type='result'><slot xmlns='${UPLOAD_NS}'><put url='file:///etc/passwd'/><get url='https://u.test/g/1'/></slot></iq>`);
    expect(readSlot(bad)).toBeUndefined();
  });

  it('requests a slot and maps its errors', async () => {
    const conn = new TestConnection(ME);
    let request: XElement | undefined;
    conn.iqHandler = (iq) => {
      request = iq.getChild('request', UPLOAD_NS);
      throw iqError('not-acceptable', x('file-too-large', UPLOAD_NS, {}, x('max-file-size', UPLOAD_NS, {}, '2048')));
    };
    await expect(requestSlot(conn, 'upload.example.test', { name: '季度报告 Q4.pdf', size: 4096, type: 'application/pdf' })).rejects.toMatchObject({ failure: 'too-large', maxFileSize: 2048 });
    expect(request?.attrs).toEqual({ filename: '季度报告 Q4.pdf', size: '4096', 'content-type': 'application/pdf' });

    expect(slotError(iqError('resource-constraint')).failure).toBe('quota');
    expect(slotError(iqError('not-allowed')).failure).toBe('quota');
    expect(slotError(iqError('not-acceptable')).failure).toBe('refused-type');
    expect(slotError(new Error('socket closed')).failure).toBe('network');
    expect([0, 413, 415, 429, 500].map(putFailure)).toEqual(['network', 'too-large', 'refused-type', 'quota', 'server']);
    expect(new UploadError('quota')).toBeInstanceOf(Error);
  });
});

describe('sending and receiving files through the chat store', () => {
  function setup(): { db: ParleyDb; conn: TestConnection; store: ChatStore } {
    const db = openAccountDb(ME);
    const conn = new TestConnection(ME);
    const store = new ChatStore(db, conn, { locks: null, shareChanges: false });
    dbs.push(db);
    stores.push(store);
    return { db, conn, store };
  }

  it('sends a file message with its upload row', async () => {
    const { db, conn, store } = setup();
    await conn.start();
    const pending = new PendingUploads(db);
    await pending.add({ id: 'up1', conversation: BOB, kind: 'chat', file: new Blob(['abc']), name: 'a.pdf', type: 'application/pdf', size: 3, meta: {}, createdAt: 1, state: 'uploading' });

    const url = 'https://u.test/g/a.pdf';
    const message = await store.send(BOB, url, 'chat', { attachment: { url, name: 'a.pdf', type: 'application/pdf', size: 3 }, uploadId: 'up1' });
    expect(message.originId).toBe('up1');
    expect(message.attachment?.name).toBe('a.pdf');
    expect(await pending.get('up1')).toBeUndefined();
    expect((await db.conversations.get(BOB))?.previewAttachment?.name).toBe('a.pdf');

    const entry = (await db.outbox.toArray())[0];
    const stanza = parseFrame(entry?.xml ?? '');
    expect(stanza.getChildText('body', NS.CLIENT)).toBe(url);
    expect(stanza.getChild('x', FILE_NS.OOB)?.getChildText('url', FILE_NS.OOB)).toBe(url);
    expect(stanza.getChild('file-sharing', FILE_NS.SFS)?.getChild('file', FILE_NS.FILE)?.getChildText('name', FILE_NS.FILE)).toBe('a.pdf');
    expect(stanza.getChild('origin-id', NS.SID)?.attr('id')).toBe('up1');
  });

  it('stores an OOB-only message with its file', async () => {
    const { db, conn, store } = setup();
    await conn.start();
    const url = 'https://share.example.net/x/report%20final.pdf';
    conn.receive(x('message', NS.CLIENT, { from: `${BOB}/phone`, to: `${ME}/web`, type: 'chat', id: 'm1' },
      x('body', NS.CLIENT, {}, url), x('x', FILE_NS.OOB, {}, x('url', FILE_NS.OOB, {}, url)), x('stanza-id', NS.SID, { by: ME, id: 's1' })));
    await (store as unknown as { queue: Promise<void> }).queue;

    const row = await db.messages.where('[conversation+stanzaId]').equals([BOB, 's1']).first();
    expect(row?.attachment).toEqual({ url, name: 'report final.pdf', type: 'application/pdf', purpose: 'file' });
    expect(row?.tokens).toEqual(['report', 'final', 'pdf']);
    expect((await db.conversations.get(BOB))?.previewAttachment?.name).toBe('report final.pdf');
  });
});
