import { describe, expect, it } from 'vitest';
import type { RosterItem } from '../../storage/index.js';
import { isEmptyRequest, isRosterItem, itemlessRequest, newRosterItem } from '../roster/records.js';
import { decideInbound, decideOutbound } from './decisions.js';

const BOB = 'bob@example.test';
const REQUEST = "<presence xmlns='jabber:client' type='subscribe' from='bob@example.test' to='alice@example.test'/>";

function item(fields: Partial<RosterItem> = {}): RosterItem {
  return { ...newRosterItem(BOB), ...fields };
}

describe('decideOutbound', () => {
  it('subscribe creates a visible item', () => {
    const { record } = decideOutbound('subscribe', null, BOB);
    expect(record).not.toBeNull();
    expect(isRosterItem(record!)).toBe(true);
  });

  it('subscribe sets ask', () => {
    expect(decideOutbound('subscribe', null, BOB).record?.ask).toBe(true);
  });

  it('subscribe reveals a stored request', () => {
    const { record } = decideOutbound('subscribe', itemlessRequest(BOB, REQUEST), BOB);
    expect(record).not.toBeNull();
    expect(isRosterItem(record!)).toBe(true);
  });

  it('subscribed answers a stored request', () => {
    const { record } = decideOutbound('subscribed', itemlessRequest(BOB, REQUEST), BOB);
    expect(record).toEqual(item({ subscription: 'from' }));
  });

  it('subscribed without request pre-approves', () => {
    const decision = decideOutbound('subscribed', null, BOB);
    expect(decision.record).toEqual(item({ approved: true }));
  });

  it('pre-approval is not routed', () => {
    expect(decideOutbound('subscribed', null, BOB).forward).toBe(false);
  });

  it('subscribed to a subscriber changes nothing', () => {
    const current = item({ subscription: 'from' });
    expect(decideOutbound('subscribed', current, BOB).record).toBe(current);
  });

  it('unsubscribed withdraws pre-approval', () => {
    expect(decideOutbound('unsubscribed', item({ approved: true }), BOB).record).toEqual(item());
  });

  it('unsubscribed empties a stored request', () => {
    const { record } = decideOutbound('unsubscribed', itemlessRequest(BOB, REQUEST), BOB);
    expect(record).not.toBeNull();
    expect(isEmptyRequest(record!)).toBe(true);
  });

  it('unsubscribe without item stores nothing', () => {
    expect(decideOutbound('unsubscribe', null, BOB).record).toBeNull();
  });
});

describe('decideInbound', () => {
  it('subscribe from a stranger stores a request', () => {
    const { record } = decideInbound('subscribe', null, BOB, REQUEST);
    expect(record).toEqual(itemlessRequest(BOB, REQUEST));
  });

  it('stored request is no roster item', () => {
    const { record } = decideInbound('subscribe', null, BOB, REQUEST);
    expect(record).not.toBeNull();
    expect(isRosterItem(record!)).toBe(false);
  });

  it('subscribe to an item keeps it visible', () => {
    const { record } = decideInbound('subscribe', item({ name: 'Bob' }), BOB, REQUEST);
    expect(record).toEqual(item({ name: 'Bob', pendingIn: true, pendingInStanza: REQUEST }));
  });

  it('subscribe is delivered once', () => {
    const current = item({ pendingIn: true, pendingInStanza: REQUEST });
    expect(decideInbound('subscribe', current, BOB, REQUEST).deliver).toBe(false);
  });

  it('subscribe from a subscriber is approved', () => {
    expect(decideInbound('subscribe', item({ subscription: 'both' }), BOB, REQUEST).approve).toBe(true);
  });

  it('pre-approved subscribe is approved', () => {
    const decision = decideInbound('subscribe', item({ approved: true, subscription: 'to' }), BOB, REQUEST);
    expect(decision.approve).toBe(true);
  });

  it('pre-approved subscribe is not delivered', () => {
    const decision = decideInbound('subscribe', item({ approved: true }), BOB, REQUEST);
    expect(decision.deliver).toBe(false);
  });

  it('pre-approval is used up', () => {
    const decision = decideInbound('subscribe', item({ approved: true, subscription: 'to' }), BOB, REQUEST);
    expect(decision.record).toEqual(item({ subscription: 'both' }));
  });

  it('unsubscribe withdraws a stored request', () => {
    const { record } = decideInbound('unsubscribe', itemlessRequest(BOB, REQUEST), BOB, '');
    expect(record).not.toBeNull();
    expect(isEmptyRequest(record!)).toBe(true);
  });

  it('unsubscribe clears the stored stanza', () => {
    const { record } = decideInbound('unsubscribe', item({ pendingIn: true, pendingInStanza: REQUEST }), BOB, '');
    expect(record?.pendingInStanza).toBeNull();
  });

  it('subscribed answers ask', () => {
    const { record } = decideInbound('subscribed', item({ ask: true }), BOB, '');
    expect(record).toEqual(item({ subscription: 'to' }));
  });

  it('unsolicited subscribed is dropped', () => {
    expect(decideInbound('subscribed', null, BOB, '').deliver).toBe(false);
  });
});
