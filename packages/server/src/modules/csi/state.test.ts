import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { OutgoingFilter } from '../../c2s/session.js';
import { ClientState, type FilterHost, MAX_HELD, holdKey } from './state.js';

/** Runs stanzas through the filters like a session does, and records what would be written. */
class Pipeline implements FilterHost {
  readonly written: Element[] = [];
  private readonly filters: OutgoingFilter[] = [];

  addOutgoingFilter(filter: OutgoingFilter): () => void {
    this.filters.push(filter);
    return () => this.filters.splice(this.filters.indexOf(filter), 1);
  }

  send(stanza: Element): void {
    this.sendFrom(0, [stanza]);
  }

  sendPast(filter: OutgoingFilter, stanzas: Element[]): void {
    this.sendFrom(this.filters.indexOf(filter) + 1, stanzas);
  }

  ids(): (string | undefined)[] {
    return this.written.map((el) => el.attr('id'));
  }

  private sendFrom(index: number, stanzas: Element[]): void {
    let batch = stanzas;
    for (const filter of this.filters.slice(index)) batch = batch.flatMap((stanza) => filter(stanza));
    this.written.push(...batch);
  }
}

function presence(from: string, id: string, attrs: Record<string, string> = {}): Element {
  return x('presence', NS.CLIENT, { from, id, ...attrs });
}

function chat(from: string, id: string): Element {
  return x('message', NS.CLIENT, { from, id, type: 'chat' }, x('body', NS.CLIENT, {}, 'hi'));
}

function composing(from: string, id: string): Element {
  return x('message', NS.CLIENT, { from, id, type: 'chat' }, x('composing', NS.CHATSTATES));
}

function inactiveSession(): Pipeline {
  const pipeline = new Pipeline();
  new ClientState(pipeline).setInactive();
  return pipeline;
}

describe('holdKey', () => {
  it('holds available presence', () => {
    expect(holdKey(presence('bob@example.test/a', 'p'))).toBe('presence bob@example.test/a');
  });

  it('holds unavailable presence under the same key', () => {
    expect(holdKey(presence('bob@example.test/a', 'p', { type: 'unavailable' }))).toBe('presence bob@example.test/a');
  });

  it('lets a subscription request through', () => {
    expect(holdKey(presence('bob@example.test', 'p', { type: 'subscribe' }))).toBeUndefined();
  });

  it('holds a chat state', () => {
    expect(holdKey(composing('bob@example.test/a', 'c'))).toBe('chat-state bob@example.test/a');
  });

  it('lets a message with a body through', () => {
    expect(holdKey(chat('bob@example.test/a', 'm'))).toBeUndefined();
  });

  it('lets a receipt through', () => {
    const receipt = x('message', NS.CLIENT, { from: 'bob@example.test/a' }, x('received', 'urn:xmpp:receipts', { id: 'm1' }));
    expect(holdKey(receipt)).toBeUndefined();
  });

  it('lets an IQ through', () => {
    expect(holdKey(x('iq', NS.CLIENT, { type: 'get', id: 'q' }))).toBeUndefined();
  });
});

describe('ClientState', () => {
  it('passes everything while active', () => {
    const pipeline = new Pipeline();
    new ClientState(pipeline);
    pipeline.send(presence('bob@example.test/a', 'p1'));
    expect(pipeline.ids()).toEqual(['p1']);
  });

  it('holds presence while inactive', () => {
    const pipeline = inactiveSession();
    pipeline.send(presence('bob@example.test/a', 'p1'));
    expect(pipeline.written).toEqual([]);
  });

  it('keeps only the latest presence per full JID', () => {
    const pipeline = new Pipeline();
    const state = new ClientState(pipeline);
    state.setInactive();
    for (let i = 1; i <= 5; i++) pipeline.send(presence('bob@example.test/a', `p${i}`));
    state.setActive();
    expect(pipeline.ids()).toEqual(['p5']);
  });

  it('sends held stanzas before an urgent one', () => {
    const pipeline = inactiveSession();
    pipeline.send(presence('bob@example.test/a', 'p1'));
    pipeline.send(composing('carol@example.test/b', 'c1'));
    pipeline.send(chat('dave@example.test/c', 'm1'));
    expect(pipeline.ids()).toEqual(['p1', 'c1', 'm1']);
  });

  it('orders a replaced stanza by its latest version', () => {
    const pipeline = inactiveSession();
    pipeline.send(presence('bob@example.test/a', 'p1'));
    pipeline.send(presence('carol@example.test/b', 'p2'));
    pipeline.send(presence('bob@example.test/a', 'p3'));
    pipeline.send(chat('dave@example.test/c', 'm1'));
    expect(pipeline.ids()).toEqual(['p2', 'p3', 'm1']);
  });

  it('flushes when too much is held', () => {
    const pipeline = inactiveSession();
    for (let i = 0; i <= MAX_HELD; i++) pipeline.send(presence(`user${i}@example.test/a`, `p${i}`));
    expect(pipeline.written).toHaveLength(MAX_HELD + 1);
  });

  it('sends nothing on active when nothing is held', () => {
    const pipeline = new Pipeline();
    const state = new ClientState(pipeline);
    state.setInactive();
    state.setActive();
    expect(pipeline.written).toEqual([]);
  });
});
