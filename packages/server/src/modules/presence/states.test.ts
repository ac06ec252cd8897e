import { describe, expect, it } from 'vitest';
import { type SubscriptionState, type SubscriptionType, inboundTransition, outboundTransition } from './states.js';

/** The nine states of RFC 6121 Appendix A.1. */
const STATES: Record<string, SubscriptionState> = {
  None: { to: false, from: false, pendingOut: false, pendingIn: false },
  'None + Pending Out': { to: false, from: false, pendingOut: true, pendingIn: false },
  'None + Pending In': { to: false, from: false, pendingOut: false, pendingIn: true },
  'None + Pending Out+In': { to: false, from: false, pendingOut: true, pendingIn: true },
  To: { to: true, from: false, pendingOut: false, pendingIn: false },
  'To + Pending In': { to: true, from: false, pendingOut: false, pendingIn: true },
  From: { to: false, from: true, pendingOut: false, pendingIn: false },
  'From + Pending Out': { to: false, from: true, pendingOut: true, pendingIn: false },
  Both: { to: true, from: true, pendingOut: false, pendingIn: false },
};

/** Rows of a table in Appendix A: existing state, routed or delivered, new state (same name for "no state change"). */
type Row = [string, boolean, string];

const OUTBOUND: Record<SubscriptionType, Row[]> = {
  // A.2.1
  subscribe: [
    ['None', true, 'None + Pending Out'],
    ['None + Pending Out', true, 'None + Pending Out'],
    ['None + Pending In', true, 'None + Pending Out+In'],
    ['None + Pending Out+In', true, 'None + Pending Out+In'],
    ['To', true, 'To'],
    ['To + Pending In', true, 'To + Pending In'],
    ['From', true, 'From + Pending Out'],
    ['From + Pending Out', true, 'From + Pending Out'],
    ['Both', true, 'Both'],
  ],
  // A.2.2
  unsubscribe: [
    ['None', true, 'None'],
    ['None + Pending Out', true, 'None'],
    ['None + Pending In', true, 'None + Pending In'],
    ['None + Pending Out+In', true, 'None + Pending In'],
    ['To', true, 'None'],
    ['To + Pending In', true, 'None + Pending In'],
    ['From', true, 'From'],
    ['From + Pending Out', true, 'From'],
    ['Both', true, 'From'],
  ],
  // A.2.3
  subscribed: [
    ['None', false, 'None'],
    ['None + Pending Out', false, 'None + Pending Out'],
    ['None + Pending In', true, 'From'],
    ['None + Pending Out+In', true, 'From + Pending Out'],
    ['To', false, 'To'],
    ['To + Pending In', true, 'Both'],
    ['From', false, 'From'],
    ['From + Pending Out', false, 'From + Pending Out'],
    ['Both', false, 'Both'],
  ],
  // A.2.4
  unsubscribed: [
    ['None', false, 'None'],
    ['None + Pending Out', false, 'None + Pending Out'],
    ['None + Pending In', true, 'None'],
    ['None + Pending Out+In', true, 'None + Pending Out'],
    ['To', false, 'To'],
    ['To + Pending In', true, 'To'],
    ['From', true, 'None'],
    ['From + Pending Out', true, 'None + Pending Out'],
    ['Both', true, 'To'],
  ],
};

const INBOUND: Record<SubscriptionType, Row[]> = {
  // A.3.1 (the states with a 'from' subscription get an automatic "subscribed" reply, outside this function)
  subscribe: [
    ['None', true, 'None + Pending In'],
    ['None + Pending Out', true, 'None + Pending Out+In'],
    ['None + Pending In', false, 'None + Pending In'],
    ['None + Pending Out+In', false, 'None + Pending Out+In'],
    ['To', true, 'To + Pending In'],
    ['To + Pending In', false, 'To + Pending In'],
    ['From', false, 'From'],
    ['From + Pending Out', false, 'From + Pending Out'],
    ['Both', false, 'Both'],
  ],
  // A.3.2
  unsubscribe: [
    ['None', false, 'None'],
    ['None + Pending Out', false, 'None + Pending Out'],
    ['None + Pending In', true, 'None'],
    ['None + Pending Out+In', true, 'None + Pending Out'],
    ['To', false, 'To'],
    ['To + Pending In', true, 'To'],
    ['From', true, 'None'],
    ['From + Pending Out', true, 'None + Pending Out'],
    ['Both', true, 'To'],
  ],
  // A.3.3
  subscribed: [
    ['None', false, 'None'],
    ['None + Pending Out', true, 'To'],
    ['None + Pending In', false, 'None + Pending In'],
    ['None + Pending Out+In', true, 'To + Pending In'],
    ['To', false, 'To'],
    ['To + Pending In', false, 'To + Pending In'],
    ['From', false, 'From'],
    ['From + Pending Out', true, 'Both'],
    ['Both', false, 'Both'],
  ],
  // A.3.4
  unsubscribed: [
    ['None', false, 'None'],
    ['None + Pending Out', true, 'None'],
    ['None + Pending In', false, 'None + Pending In'],
    ['None + Pending Out+In', true, 'None + Pending In'],
    ['To', true, 'None'],
    ['To + Pending In', true, 'None + Pending In'],
    ['From', false, 'From'],
    ['From + Pending Out', true, 'From'],
    ['Both', true, 'From'],
  ],
};

function state(name: string): SubscriptionState {
  const found = STATES[name];
  if (!found) throw new Error(`Unknown state name ${name}`);
  return found;
}

describe.each(Object.keys(OUTBOUND) as SubscriptionType[])('outbound %s', (type) => {
  it.each(OUTBOUND[type])('from %s: routed %s, then %s', (existing, routed, next) => {
    const transition = outboundTransition(type, state(existing));
    expect(transition.forward).toBe(routed);
    expect(transition.next).toEqual(state(next));
  });
});

describe.each(Object.keys(INBOUND) as SubscriptionType[])('inbound %s', (type) => {
  it.each(INBOUND[type])('from %s: delivered %s, then %s', (existing, delivered, next) => {
    const transition = inboundTransition(type, state(existing));
    expect(transition.forward).toBe(delivered);
    expect(transition.next).toEqual(state(next));
  });
});
