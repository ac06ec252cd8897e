import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { isArchivable } from './policy.js';

const body = () => x('body', NS.CLIENT, {}, 'hi');
const message = (attrs: Record<string, string>, ...children: Element[]) => x('message', NS.CLIENT, attrs, ...children);

describe('isArchivable', () => {
  it('archives a chat message with a body', () => {
    expect(isArchivable(message({ type: 'chat' }, body()))).toBe(true);
  });

  it('archives a message without type', () => {
    expect(isArchivable(message({}, body()))).toBe(true);
  });

  it('skips a message without content', () => {
    expect(isArchivable(message({ type: 'chat' }, x('thread', NS.CLIENT, {}, 't')))).toBe(false);
  });

  it('archives a retraction', () => {
    expect(isArchivable(message({ type: 'chat' }, x('retract', NS.RETRACT, { id: 'm1' })))).toBe(true);
  });

  it('skips an error', () => {
    expect(isArchivable(message({ type: 'error' }, body()))).toBe(false);
  });

  it('skips headline', () => {
    expect(isArchivable(message({ type: 'headline' }, body()))).toBe(false);
  });

  it('skips no-store', () => {
    expect(isArchivable(message({ type: 'chat' }, body(), x('no-store', NS.HINTS)))).toBe(false);
  });

  it('skips no-permanent-store', () => {
    expect(isArchivable(message({ type: 'chat' }, body(), x('no-permanent-store', NS.HINTS)))).toBe(false);
  });

  it('skips a chat state', () => {
    expect(isArchivable(message({ type: 'chat' }, x('composing', NS.CHATSTATES)))).toBe(false);
  });

  it('skips a chat state with a store hint', () => {
    expect(isArchivable(message({ type: 'chat' }, x('active', NS.CHATSTATES), x('store', NS.HINTS)))).toBe(false);
  });

  it('archives content without a body on a store hint', () => {
    expect(isArchivable(message({ type: 'chat' }, x('received', 'urn:xmpp:receipts', { id: 'm1' }), x('store', NS.HINTS)))).toBe(true);
  });

  it.each(['received', 'displayed', 'acknowledged'])('archives a %s chat marker without a body', (marker) => {
    expect(isArchivable(message({ type: 'chat' }, x(marker, 'urn:xmpp:chat-markers:0', { id: 'm1' })))).toBe(true);
  });

  it('skips a markable request without a body', () => {
    expect(isArchivable(message({ type: 'chat' }, x('markable', 'urn:xmpp:chat-markers:0')))).toBe(false);
  });

  it('archives a chat marker next to a chat state', () => {
    expect(isArchivable(message({ type: 'chat' }, x('displayed', 'urn:xmpp:chat-markers:0', { id: 'm1' }), x('active', NS.CHATSTATES)))).toBe(true);
  });

  it('skips a chat marker with no-store', () => {
    expect(isArchivable(message({ type: 'chat' }, x('displayed', 'urn:xmpp:chat-markers:0', { id: 'm1' }), x('no-store', NS.HINTS)))).toBe(false);
  });

  it('skips a groupchat marker, which the room archives', () => {
    expect(isArchivable(message({ type: 'groupchat' }, x('displayed', 'urn:xmpp:chat-markers:0', { id: 'm1' })))).toBe(false);
  });
});
