import { describe, expect, it } from 'vitest';
import { JID, NS, x } from '@parley/xmpp';
import { offlineDecision } from './policy.js';

const ALICE = JID.parse('alice@example.test/phone');
const body = (text: string) => x('body', NS.CLIENT, {}, text);
const composing = () => x('composing', NS.CHATSTATES);

describe('offlineDecision', () => {
  it('stores a chat message', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi')), ALICE)).toBe('store');
  });

  it('stores a message without type', () => {
    expect(offlineDecision(x('message', NS.CLIENT, {}, body('hi')), ALICE)).toBe('store');
  });

  it('stores a chat message with body and chat state', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi'), x('active', NS.CHATSTATES)), ALICE)).toBe('store');
  });

  it('drops a bare chat state', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, composing()), ALICE)).toBe('drop');
  });

  it('drops a chat state with thread and origin-id', () => {
    const message = x('message', NS.CLIENT, { type: 'chat' }, composing(), x('thread', NS.CLIENT, {}, 't1'), x('origin-id', NS.STANZA_ID, { id: 'o1' }));
    expect(offlineDecision(message, ALICE)).toBe('drop');
  });

  it('stores a chat state next to other payload', () => {
    const message = x('message', NS.CLIENT, { type: 'chat' }, composing(), x('encrypted', 'eu.siacs.conversations.axolotl'));
    expect(offlineDecision(message, ALICE)).toBe('store');
  });

  it('refuses a no-store hint', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi'), x('no-store', NS.HINTS)), ALICE)).toBe('refuse');
  });

  it('drops a no-store hint from the account itself', () => {
    const push = x('message', NS.CLIENT, { from: 'alice@example.test', to: 'alice@example.test/phone' }, x('result', 'erlang-solutions.com:xmpp:inbox:0'), x('no-store', NS.HINTS));
    expect(offlineDecision(push, ALICE)).toBe('drop');
  });

  it('drops a no-store hint from the domain', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { from: 'example.test' }, body('notice'), x('no-store', NS.HINTS)), ALICE)).toBe('drop');
  });

  it('refuses a no-store hint from another account', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { from: 'bob@example.test' }, body('hi'), x('no-store', NS.HINTS)), ALICE)).toBe('refuse');
    expect(offlineDecision(x('message', NS.CLIENT, { from: 'alice@example.test/laptop' }, body('hi'), x('no-store', NS.HINTS)), ALICE)).toBe('refuse');
  });

  it('refuses headline', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'headline' }, body('news')), ALICE)).toBe('refuse');
  });

  it('refuses groupchat', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'groupchat' }, body('hi')), ALICE)).toBe('refuse');
  });

  it('refuses an unknown type', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'bogus' }, body('hi')), ALICE)).toBe('refuse');
  });
});
