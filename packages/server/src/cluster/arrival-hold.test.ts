import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { OutgoingFilter, SessionState } from '../c2s/session.js';
import { ArrivalHold, type HoldHost } from './arrival-hold.js';

/** A session's outgoing filter chain, writing what passes it to `written`. */
class FilterChain implements HoldHost {
  state: SessionState = 'bound';
  readonly written: string[] = [];
  private readonly filters: OutgoingFilter[] = [];

  addOutgoingFilter(filter: OutgoingFilter): () => void {
    this.filters.push(filter);
    return () => this.filters.splice(this.filters.indexOf(filter), 1);
  }

  send(stanza: Element): void {
    this.pass([stanza], 0);
  }

  sendPast(filter: OutgoingFilter, stanzas: Element[]): void {
    this.pass(stanzas, this.filters.indexOf(filter) + 1);
  }

  get filterCount(): number {
    return this.filters.length;
  }

  private pass(stanzas: Element[], first: number): void {
    let batch = stanzas;
    for (const filter of this.filters.slice(first)) batch = batch.flatMap((stanza) => filter(stanza));
    for (const stanza of batch) this.written.push(stanza.getChildText('body', NS.CLIENT)!);
  }
}

function message(body: string, from = 'ben@example.test/phone'): Element {
  return x('message', NS.CLIENT, { from, to: 'ann@example.test', type: 'chat' }, x('body', NS.CLIENT, {}, body));
}

describe('ArrivalHold', () => {
  it('holds direct stanzas until the release', () => {
    const host = new FilterChain();
    new ArrivalHold().attach(host);
    host.send(message('direct'));
    expect(host.written).toEqual([]);
  });

  it('sends the forwarded stanzas before the held ones', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    host.send(message('direct-1'));
    host.send(message('direct-2'));
    expect(hold.release([message('forwarded-1'), message('forwarded-2')])).toEqual([]);
    expect(host.written).toEqual(['forwarded-1', 'forwarded-2', 'direct-1', 'direct-2']);
  });

  it('drops a forwarded copy of a held stanza once', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    host.send(message('both ways'));
    hold.release([message('both ways'), message('both ways'), message('other sender', 'cal@example.test/desk')]);
    expect(host.written).toEqual(['both ways', 'other sender', 'both ways']);
  });

  it('keeps forwarded stanzas that differ from the held ones', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    host.send(message('same body', 'cal@example.test/desk'));
    hold.release([message('same body', 'ben@example.test/phone')]);
    expect(host.written).toEqual(['same body', 'same body']);
  });

  it('passes stanzas through after the release', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    hold.release([]);
    host.send(message('later'));
    expect(host.written).toEqual(['later']);
    expect(host.filterCount).toBe(0);
  });

  it('sends a late forward as it is', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    host.send(message('held'));
    hold.release([]);
    hold.release([message('late')]);
    expect(host.written).toEqual(['held', 'late']);
  });

  it('returns everything when the session ended', () => {
    const host = new FilterChain();
    const hold = new ArrivalHold();
    hold.attach(host);
    host.send(message('held'));
    host.state = 'closed';
    const unsent = hold.release([message('forwarded')]);
    expect(unsent.map((stanza) => stanza.getChildText('body', NS.CLIENT))).toEqual(['forwarded', 'held']);
    expect(host.written).toEqual([]);
  });
});
