import { describe, expect, it } from 'vitest';
import { JID, NS, serialize, x } from '@parley/xmpp';
import { earliestTime, fitCharacters, historyStanza, stanzaLimit } from './history.js';

const ROOM = JID.parse('team@conference.example.test');

function stored(body: string): string {
  return serialize(x('message', NS.CLIENT, { type: 'groupchat', from: `${ROOM.toString()}/alice` }, x('body', NS.CLIENT, {}, body)));
}

function archived(stanzaId: string, body: string) {
  return { key: 1, stanzaId, createdAt: Date.UTC(2026, 0, 2, 3, 4, 5), kind: 'message' as const, nick: 'alice', sender: 'alice@example.test', messageId: null, originId: null, stanza: stored(body), editedAt: null, retractedAt: null };
}

const LIMITS = { defaultMax: 20, max: 100 };

describe('stanzaLimit', () => {
  it('uses the default without limits', () => {
    expect(stanzaLimit({}, LIMITS)).toBe(20);
  });

  it('uses maxstanzas', () => {
    expect(stanzaLimit({ maxstanzas: 3 }, LIMITS)).toBe(3);
  });

  it('allows more than the default', () => {
    expect(stanzaLimit({ maxstanzas: 50 }, LIMITS)).toBe(50);
  });

  it('caps maxstanzas', () => {
    expect(stanzaLimit({ maxstanzas: 101 }, LIMITS)).toBe(100);
  });

  it('lifts the default for a time limit', () => {
    expect(stanzaLimit({ seconds: 60 }, LIMITS)).toBe(100);
  });

  it('caps the default at the maximum', () => {
    expect(stanzaLimit({}, { defaultMax: 20, max: 5 })).toBe(5);
  });
});

describe('earliestTime', () => {
  it('is unbounded without limits', () => {
    expect(earliestTime({}, 10_000)).toBeUndefined();
  });

  it('reads seconds', () => {
    expect(earliestTime({ seconds: 3 }, 10_000)).toBe(7000);
  });

  it('takes the later bound', () => {
    expect(earliestTime({ seconds: 3, since: 8000 }, 10_000)).toBe(8000);
  });
});

describe('fitCharacters', () => {
  const stanzas = [x('message', NS.CLIENT, {}, 'aaaa'), x('message', NS.CLIENT, {}, 'bbbb'), x('message', NS.CLIENT, {}, 'cccc')];
  const size = serialize(stanzas[0]!).length;

  it('keeps everything without maxchars', () => {
    expect(fitCharacters(stanzas, undefined)).toHaveLength(3);
  });

  it('keeps the newest that fit', () => {
    expect(fitCharacters(stanzas, size * 2 + 1).map((stanza) => stanza.text())).toEqual(['aaaa', 'bbbb']);
  });

  it('keeps none when the newest is too long', () => {
    expect(fitCharacters(stanzas, size - 1)).toEqual([]);
  });
});

describe('historyStanza', () => {
  it('adds a delay from the room', () => {
    const delay = historyStanza(ROOM, archived('s1', 'hi')).getChild('delay', NS.DELAY);
    expect([delay?.attr('from'), delay?.attr('stamp')]).toEqual([ROOM.toString(), '2026-01-02T03:04:05.000Z']);
  });

  it('removes a forged muc#user item', () => {
    const forged = serialize(
      x('message', NS.CLIENT, { type: 'groupchat' }, x('body', NS.CLIENT, {}, 'hi'), x('x', 'http://jabber.org/protocol/muc#user', {}, x('item', 'http://jabber.org/protocol/muc#user', { jid: 'mallory@example.test' }))),
    );
    expect(historyStanza(ROOM, { ...archived('s1', 'hi'), stanza: forged }).getChild('x', 'http://jabber.org/protocol/muc#user')).toBeUndefined();
  });

  it('carries the room stanza id', () => {
    const id = historyStanza(ROOM, archived('s1', 'hi')).getChild('stanza-id', NS.STANZA_ID);
    expect([id?.attr('by'), id?.attr('id')]).toEqual([ROOM.toString(), 's1']);
  });
});
