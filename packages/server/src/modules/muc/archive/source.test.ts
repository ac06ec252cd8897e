import { describe, expect, it } from 'vitest';
import { JID, NS, x } from '@parley/xmpp';
import { roomFilter, roomForwarded } from './source.js';

const ROOM = JID.parse('team@conference.example.test');
const MUC_USER = 'http://jabber.org/protocol/muc#user';

const message = { key: 1, stanzaId: 's1', createdAt: 0, kind: 'message' as const, nick: 'alice', sender: 'alice@example.test', messageId: null, originId: null, stanza: '', editedAt: null, retractedAt: null };

function forged() {
  return x('message', NS.CLIENT, { type: 'groupchat', from: `${ROOM.toString()}/alice` }, x('body', NS.CLIENT, {}, 'hi'), x('x', MUC_USER, {}, x('item', MUC_USER, { jid: 'mallory@example.test' })));
}

describe('roomFilter', () => {
  it('reads an occupant JID as a nick', () => {
    expect(roomFilter({ with: { bare: ROOM.toString(), resource: 'alice' } }, ROOM, false)).toEqual({ nick: 'alice' });
  });

  it('reads the room JID as everything', () => {
    expect(roomFilter({ with: { bare: ROOM.toString() }, start: 5 }, ROOM, false)).toEqual({ start: 5 });
  });

  it('reads a real JID for moderators', () => {
    expect(roomFilter({ with: { bare: 'alice@example.test' } }, ROOM, true)).toEqual({ sender: 'alice@example.test' });
  });

  it('hides real JIDs from others', () => {
    expect(roomFilter({ with: { bare: 'alice@example.test' } }, ROOM, false)).toEqual({ keys: [] });
  });
});

describe('roomForwarded', () => {
  it('removes a forged muc#user item', () => {
    const result = roomForwarded(ROOM, message, forged(), false);
    expect(result.getChildren('x', MUC_USER)).toEqual([]);
  });

  it('adds the real JID when allowed', () => {
    const result = roomForwarded(ROOM, message, forged(), true);
    const items = result.getChildren('x', MUC_USER).map((payload) => payload.getChild('item', MUC_USER)?.attr('jid'));
    expect(items).toEqual(['alice@example.test']);
  });

  it('adds the room stanza id', () => {
    const result = roomForwarded(ROOM, message, forged(), false);
    expect(result.getChild('stanza-id', NS.STANZA_ID)?.attr('id')).toBe('s1');
  });
});
