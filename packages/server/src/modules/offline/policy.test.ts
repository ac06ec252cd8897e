import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { offlineDecision } from './policy.js';

const body = (text: string) => x('body', NS.CLIENT, {}, text);
const composing = () => x('composing', NS.CHATSTATES);

describe('offlineDecision', () => {
  it('stores a chat message', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi')))).toBe('store');
  });

  it('stores a message without type', () => {
    expect(offlineDecision(x('message', NS.CLIENT, {}, body('hi')))).toBe('store');
  });

  it('stores a chat message with body and chat state', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi'), x('active', NS.CHATSTATES)))).toBe('store');
  });

  it('drops a bare chat state', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, composing()))).toBe('drop');
  });

  it('drops a chat state with thread and origin-id', () => {
    const message = x('message', NS.CLIENT, { type: 'chat' }, composing(), x('thread', NS.CLIENT, {}, 't1'), x('origin-id', NS.STANZA_ID, { id: 'o1' }));
    expect(offlineDecision(message)).toBe('drop');
  });

  it('stores a chat state next to other payload', () => {
    const message = x('message', NS.CLIENT, { type: 'chat' }, composing(), x('encrypted', 'eu.siacs.conversations.axolotl'));
    expect(offlineDecision(message)).toBe('store');
  });

  it('refuses a no-store hint', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'chat' }, body('hi'), x('no-store', NS.HINTS)))).toBe('refuse');
  });

  it('refuses headline', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'headline' }, body('news')))).toBe('refuse');
  });

  it('refuses groupchat', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'groupchat' }, body('hi')))).toBe('refuse');
  });

  it('refuses an unknown type', () => {
    expect(offlineDecision(x('message', NS.CLIENT, { type: 'bogus' }, body('hi')))).toBe('refuse');
  });
});
