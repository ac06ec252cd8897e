import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { x, type XElement } from '../xmpp/index.js';
import type { MamQueries, MamRequest } from './mam.js';
import { messageKey } from './message-store.js';
import { NS } from './ns.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import { mergeHits, searchAll } from './search-merged.js';
import { tokenize } from './tokens.js';
import type { Message } from './types.js';

const ME = 'alice@example.test';
const BOB = 'bob@example.test';

let db: ParleyDb;

function stored(body: string, timestamp: number, ids: Partial<Message>): Message {
  const direction = ids.originId !== undefined && ids.stanzaId === undefined ? 'out' : 'in';
  const from = direction === 'out' ? ME : BOB;
  const state = direction === 'out' ? 'sent' : 'received';
  return { key: messageKey(timestamp, ids.stanzaId ?? ids.originId ?? body), conversation: BOB, kind: 'chat', direction, from, body, timestamp, state, tokens: tokenize(body), ...ids };
}

/** An archive result as the server sends it: its stamp differs from the local copy's clock. */
function archived(id: string, from: string, to: string, body: string, stamp: number, originId?: string): XElement {
  const message = x('message', NS.CLIENT, { from, to, type: 'chat' }, x('body', NS.CLIENT, {}, body), originId === undefined ? undefined : x('origin-id', NS.SID, { id: originId }));
  const forwarded = x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp: new Date(stamp).toISOString() }), message);
  return x('result', NS.MAM, { id }, forwarded);
}

function archiveOf(results: XElement[]): { mam: MamQueries; requests: MamRequest[] } {
  const requests: MamRequest[] = [];
  const mam = {
    ownJid: ME,
    query: (request: MamRequest) => {
      requests.push(request);
      return Promise.resolve({ results, complete: true });
    },
  };
  return { mam: mam as unknown as MamQueries, requests };
}

beforeEach(async () => {
  db = openAccountDb('merge@example.test');
  await db.messages.bulkPut([
    stored('launch slides ready?', 1_000_000, { originId: 'o-own' }),
    stored('launch slides are done', 2_000_000, { stanzaId: 'A2', originId: 'o-bob' }),
    { ...stored('launch slides draft, deleted', 3_000_000, { stanzaId: 'A3' }), retractedAt: 3_100_000 },
  ]);
});

afterEach(async () => {
  db.close();
  await db.delete();
});

describe('merged search', () => {
  it('lists a stored server hit once', async () => {
    const { mam, requests } = archiveOf([
      archived('A1', `${ME}/web`, BOB, 'launch slides ready?', 1_000_450, 'o-own'),
      archived('A2', `${BOB}/phone`, ME, 'launch slides are done', 2_000_900, 'o-bob'),
      archived('A3', `${BOB}/phone`, ME, 'launch slides draft, deleted', 3_000_000),
      archived('A0', `${BOB}/phone`, ME, 'old launch slides', 500_000),
    ]);

    const result = await searchAll(db, mam, 'launch slides', { server: true });

    expect(requests).toHaveLength(1);
    expect(result.messages.map((m) => [m.body, m.stanzaId ?? m.originId])).toEqual([
      ['launch slides are done', 'A2'],
      ['launch slides ready?', 'o-own'],
      ['old launch slides', 'A0'],
    ]);
  });

  it('merges pages by stanza and origin id', () => {
    const own = stored('launch slides ready?', 1_000_000, { originId: 'o-own' });
    const fromServer = { ...own, key: messageKey(1_000_450, 'A1'), timestamp: 1_000_450, stanzaId: 'A1' };
    const bob = stored('launch slides are done', 2_000_000, { stanzaId: 'A2' });
    const bobAgain = { ...bob, key: messageKey(2_000_900, 'A2'), timestamp: 2_000_900 };
    const strangerReusingId = { ...stored('same origin-id, someone else', 1_500_000, { stanzaId: 'A9' }), originId: 'o-own' };

    const merged = mergeHits([own, bob], [fromServer, bobAgain, strangerReusingId]);

    expect(merged.map((m) => m.body)).toEqual(['launch slides are done', 'same origin-id, someone else', 'launch slides ready?']);
  });
});
