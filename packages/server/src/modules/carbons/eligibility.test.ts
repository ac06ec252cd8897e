import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { isCarbonCopy, isEligible } from './eligibility.js';
import { NS_CARBONS, NS_CHAT_MARKERS, NS_FORWARD, NS_MUC_USER, NS_RECEIPTS } from './ns.js';

const body = () => x('body', NS.CLIENT, {}, 'hi');

function message(type: string | undefined, ...children: Element[]): Element {
  return x('message', NS.CLIENT, { type, to: 'bob@example.test' }, ...children);
}

describe('isEligible', () => {
  it('copies chat', () => {
    expect(isEligible(message('chat', body()), 'sent')).toBe(true);
  });

  it('copies normal with body', () => {
    expect(isEligible(message('normal', body()), 'received')).toBe(true);
  });

  it('copies untyped with body', () => {
    expect(isEligible(message(undefined, body()), 'sent')).toBe(true);
  });

  it('skips normal without payload', () => {
    expect(isEligible(message('normal', x('thread', NS.CLIENT, {}, 't')), 'sent')).toBe(false);
  });

  it('copies normal receipt', () => {
    expect(isEligible(message('normal', x('received', NS_RECEIPTS, { id: 'm1' })), 'sent')).toBe(true);
  });

  it('copies normal chat state', () => {
    expect(isEligible(message(undefined, x('composing', NS.CHATSTATES)), 'received')).toBe(true);
  });

  it('copies normal marker', () => {
    expect(isEligible(message(undefined, x('displayed', NS_CHAT_MARKERS, { id: 'm1' })), 'sent')).toBe(true);
  });

  it('skips headline', () => {
    expect(isEligible(message('headline', body()), 'received')).toBe(false);
  });

  it('skips groupchat', () => {
    expect(isEligible(message('groupchat', body()), 'received')).toBe(false);
  });

  it('skips error', () => {
    expect(isEligible(message('error', body()), 'received')).toBe(false);
  });

  it('skips private', () => {
    expect(isEligible(message('chat', body(), x('private', NS_CARBONS)), 'sent')).toBe(false);
  });

  it('skips no-copy', () => {
    expect(isEligible(message('chat', body(), x('no-copy', NS.HINTS)), 'received')).toBe(false);
  });

  it('skips a copy', () => {
    const copy = message('chat', x('sent', NS_CARBONS, {}, x('forwarded', NS_FORWARD, {}, message('chat', body()))));
    expect(isEligible(copy, 'received')).toBe(false);
  });

  it('skips received from a room', () => {
    expect(isEligible(message('chat', body(), x('x', NS_MUC_USER)), 'received')).toBe(false);
  });

  it('copies sent to a room occupant', () => {
    expect(isEligible(message('chat', body(), x('x', NS_MUC_USER)), 'sent')).toBe(true);
  });
});

describe('isCarbonCopy', () => {
  it('finds received', () => {
    expect(isCarbonCopy(message('chat', x('received', NS_CARBONS)))).toBe(true);
  });

  it('ignores a receipt', () => {
    expect(isCarbonCopy(message('chat', x('received', NS_RECEIPTS, { id: 'm1' })))).toBe(false);
  });

  it('ignores a nested copy', () => {
    const forwarded = x('forwarded', NS_FORWARD, {}, message('chat', x('sent', NS_CARBONS)));
    expect(isCarbonCopy(message('chat', forwarded))).toBe(false);
  });
});
