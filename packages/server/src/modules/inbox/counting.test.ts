import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { countsAsUnread, inboxChangeOf, isRoomPrivateMessage } from './counting.js';

function message(type: string, ...children: Element[]): Element {
  return x('message', NS.CLIENT, { type, id: 'm1' }, ...children);
}

const body = (text: string) => x('body', NS.CLIENT, {}, text);

describe('inboxChangeOf', () => {
  it('sees a message with a body', () => {
    expect(inboxChangeOf(message('chat', body('hi')))).toEqual({ kind: 'message' });
    expect(inboxChangeOf(message('groupchat', body('hi')))).toEqual({ kind: 'message' });
  });

  it('ignores messages without a body', () => {
    expect(inboxChangeOf(message('chat', x('active', NS.CHATSTATES)))).toEqual({ kind: 'none' });
    expect(inboxChangeOf(message('chat', x('displayed', 'urn:xmpp:chat-markers:0', { id: 'm0' })))).toEqual({ kind: 'none' });
  });

  it('ignores errors and headlines', () => {
    expect(inboxChangeOf(message('error', body('hi')))).toEqual({ kind: 'none' });
    expect(inboxChangeOf(message('headline', body('news')))).toEqual({ kind: 'none' });
  });

  it('reads a correction with its fallback body', () => {
    expect(inboxChangeOf(message('chat', body('fixed'), x('replace', NS.CORRECT, { id: 'm0' })))).toEqual({ kind: 'correction', ref: 'm0' });
  });

  it('prefers a retraction over a correction', () => {
    const both = message('chat', body('gone'), x('replace', NS.CORRECT, { id: 'm0' }), x('retract', NS.RETRACT, { id: 'm0' }));
    expect(inboxChangeOf(both)).toEqual({ kind: 'retraction', ref: 'm0' });
  });
});

describe('countsAsUnread', () => {
  it('counts messages from others only', () => {
    expect(countsAsUnread({ kind: 'message' }, 'alice@example.test', 'bob@example.test')).toBe(true);
    expect(countsAsUnread({ kind: 'message' }, 'bob@example.test', 'bob@example.test')).toBe(false);
  });

  it('never counts edits', () => {
    expect(countsAsUnread({ kind: 'correction', ref: 'm0' }, 'alice@example.test', 'bob@example.test')).toBe(false);
    expect(countsAsUnread({ kind: 'retraction', ref: 'm0' }, 'alice@example.test', 'bob@example.test')).toBe(false);
  });
});

describe('isRoomPrivateMessage', () => {
  it('recognizes the muc#user marker of private messages', () => {
    expect(isRoomPrivateMessage(message('chat', body('psst'), x('x', 'http://jabber.org/protocol/muc#user')))).toBe(true);
    expect(isRoomPrivateMessage(message('chat', body('psst')))).toBe(false);
    expect(isRoomPrivateMessage(message('groupchat', body('all'), x('x', 'http://jabber.org/protocol/muc#user')))).toBe(false);
  });
});
