import { describe, expect, it } from 'vitest';
import { JID, NS, x } from '@parley/xmpp';
import { carbonCopy, sentOriginal } from './copies.js';
import { NS_CARBONS, NS_FORWARD } from './ns.js';

const ALICE = JID.parse('alice@example.test/a1');
const original = () =>
  x(
    'message',
    NS.CLIENT,
    { type: 'chat', from: 'alice@example.test/a1', to: 'bob@example.test' },
    x('body', NS.CLIENT, {}, 'hi'),
    x('stanza-id', NS.STANZA_ID, { by: 'bob@example.test', id: 'b-1' }),
    x('stanza-id', NS.STANZA_ID, { by: 'alice@example.test', id: 'a-1' }),
  );

describe('carbonCopy', () => {
  it('comes from the bare JID', () => {
    expect(carbonCopy('sent', original(), ALICE, ALICE.withResource('a2')).attr('from')).toBe('alice@example.test');
  });

  it('goes to the resource', () => {
    expect(carbonCopy('sent', original(), ALICE, ALICE.withResource('a2')).attr('to')).toBe('alice@example.test/a2');
  });

  it('keeps the type', () => {
    expect(carbonCopy('received', original(), ALICE, ALICE).attr('type')).toBe('chat');
  });

  it('wraps in forwarded', () => {
    const copy = carbonCopy('received', original(), ALICE, ALICE);
    const inner = copy.getChild('received', NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message', NS.CLIENT);
    expect(inner?.getChildText('body', NS.CLIENT)).toBe('hi');
  });
});

describe('sentOriginal', () => {
  it("keeps only the sender's archive id", () => {
    const ids = sentOriginal(original(), ALICE, undefined).getChildren('stanza-id', NS.STANZA_ID);
    expect(ids.map((id) => id.attr('by'))).toEqual(['alice@example.test']);
  });

  it('adds the given archive id', () => {
    const ids = sentOriginal(original(), ALICE, 'a-2').getChildren('stanza-id', NS.STANZA_ID);
    expect(ids.map((id) => `${id.attr('by')} ${id.attr('id')}`)).toEqual(['alice@example.test a-2']);
  });

  it('leaves the message alone', () => {
    const message = original();
    sentOriginal(message, ALICE, 'a-2');
    expect(message.getChildren('stanza-id', NS.STANZA_ID)).toHaveLength(2);
  });
});
