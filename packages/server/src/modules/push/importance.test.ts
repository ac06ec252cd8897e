import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { MAX_BODY_CODE_POINTS, pushContentOf } from './importance.js';

function message(attrs: Record<string, string>, ...children: Element[]): Element {
  return x('message', NS.CLIENT, { from: 'alice@example.test/phone', to: 'bob@example.test', ...attrs }, ...children);
}

const body = (text: string): Element => x('body', NS.CLIENT, {}, text);

describe('pushContentOf', () => {
  it('accepts a chat message with a body', () => {
    expect(pushContentOf(message({ type: 'chat' }, body('hi')))).toEqual({ body: 'hi' });
  });

  it('rejects chat states, receipts and markers', () => {
    expect(pushContentOf(message({ type: 'chat' }, x('composing', NS.CHATSTATES)))).toBeUndefined();
    expect(pushContentOf(message({}, x('received', 'urn:xmpp:receipts', { id: 'a' })))).toBeUndefined();
    expect(pushContentOf(message({}, x('displayed', 'urn:xmpp:chat-markers:0', { id: 'a' })))).toBeUndefined();
  });

  it('rejects error, headline and whitespace-only messages', () => {
    expect(pushContentOf(message({ type: 'error' }, body('bounced')))).toBeUndefined();
    expect(pushContentOf(message({ type: 'headline' }, body('news')))).toBeUndefined();
    expect(pushContentOf(message({ type: 'chat' }, body('  ')))).toBeUndefined();
  });

  it('rejects carbon copies and corrections', () => {
    const sent = x('sent', 'urn:xmpp:carbons:2', {}, x('forwarded', 'urn:xmpp:forward:0', {}, message({ type: 'chat' }, body('mine'))));
    expect(pushContentOf(message({ type: 'chat' }, sent))).toBeUndefined();
    expect(pushContentOf(message({ type: 'chat' }, body('fixed'), x('replace', 'urn:xmpp:message-correct:0', { id: 'm1' })))).toBeUndefined();
  });

  it('accepts encrypted messages without their fallback body', () => {
    const omemo = x('encrypted', 'eu.siacs.conversations.axolotl', {}, x('header', 'eu.siacs.conversations.axolotl'), x('payload', 'eu.siacs.conversations.axolotl', {}, 'AAAA'));
    expect(pushContentOf(message({ type: 'chat' }, omemo, body('I sent you an OMEMO encrypted message')))).toEqual({ body: undefined });
  });

  it('rejects OMEMO key transport messages', () => {
    const keyTransport = x('encrypted', 'eu.siacs.conversations.axolotl', {}, x('header', 'eu.siacs.conversations.axolotl'));
    expect(pushContentOf(message({ type: 'chat' }, keyTransport))).toBeUndefined();
  });

  it('accepts a call proposal', () => {
    expect(pushContentOf(message({ type: 'chat' }, x('propose', 'urn:xmpp:jingle-message:0', { id: 'c1' })))).toEqual({ body: undefined });
  });

  it('cuts long bodies without splitting a character', () => {
    const text = '😀'.repeat(MAX_BODY_CODE_POINTS + 10);
    const content = pushContentOf(message({ type: 'chat' }, body(text)));
    expect(Array.from(content!.body!)).toHaveLength(MAX_BODY_CODE_POINTS + 1);
    expect(content!.body!.endsWith('😀…')).toBe(true);
  });
});
