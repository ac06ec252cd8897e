import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { roomArchiveKind } from './policy.js';

const groupchat = (...children: ReturnType<typeof x>[]) => x('message', NS.CLIENT, { type: 'groupchat' }, ...children);

describe('roomArchiveKind', () => {
  it('stores a body', () => {
    expect(roomArchiveKind(groupchat(x('body', NS.CLIENT, {}, 'hi')))).toBe('message');
  });

  it('stores a subject change', () => {
    expect(roomArchiveKind(groupchat(x('subject', NS.CLIENT, {}, 'Plans')))).toBe('subject');
  });

  it('treats subject with body as message', () => {
    expect(roomArchiveKind(groupchat(x('subject', NS.CLIENT, {}, 'Plans'), x('body', NS.CLIENT, {}, 'hi')))).toBe('message');
  });

  it('stores a retraction', () => {
    expect(roomArchiveKind(groupchat(x('retract', NS.RETRACT, { id: 's1' })))).toBe('message');
  });

  it('keeps a chat marker as a marker', () => {
    expect(roomArchiveKind(groupchat(x('displayed', 'urn:xmpp:chat-markers:0', { id: 'r1' })))).toBe('marker');
  });

  it('skips a chat state', () => {
    expect(roomArchiveKind(groupchat(x('composing', 'http://jabber.org/protocol/chatstates')))).toBeUndefined();
  });

  it('skips a no-store hint', () => {
    expect(roomArchiveKind(groupchat(x('body', NS.CLIENT, {}, 'hi'), x('no-store', NS.HINTS)))).toBeUndefined();
  });

  it('skips a no-permanent-store hint', () => {
    expect(roomArchiveKind(groupchat(x('body', NS.CLIENT, {}, 'hi'), x('no-permanent-store', NS.HINTS)))).toBeUndefined();
  });

  it('stores content with a store hint', () => {
    expect(roomArchiveKind(groupchat(x('reactions', 'urn:xmpp:reactions:0', { id: 'm1' }), x('store', NS.HINTS)))).toBe('message');
  });

  it('skips a chat message', () => {
    expect(roomArchiveKind(x('message', NS.CLIENT, { type: 'chat' }, x('body', NS.CLIENT, {}, 'hi')))).toBeUndefined();
  });
});
