import type { RosterItem } from '../../storage/index.js';
import { hasFrom, hasTo, subscriptionOf } from '../roster/records.js';

/** The presence types that manage subscriptions (RFC 6121 section 3). */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** A subscription state of RFC 6121 Appendix A, seen from the user's side of one contact. */
export interface SubscriptionState {
  /** The user receives the contact's presence. */
  to: boolean;
  /** The contact receives the user's presence. */
  from: boolean;
  /** The user asked for the contact's presence and waits for an answer. */
  pendingOut: boolean;
  /** The contact asked for the user's presence and waits for an answer. */
  pendingIn: boolean;
}

/** What a server does with a subscription stanza: whether it passes it on, and the state that follows. */
export interface Transition {
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the user. */
  forward: boolean;
  next: SubscriptionState;
}

/** Tells whether a presence type is one of the four subscription types. */
export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';
}

/** Reads the state of a stored record; no record is the state "None". */
export function stateOf(record: RosterItem | null): SubscriptionState {
  if (record === null) return { to: false, from: false, pendingOut: false, pendingIn: false };
  return { to: hasTo(record.subscription), from: hasFrom(record.subscription), pendingOut: record.ask, pendingIn: record.pendingIn };
}

/** Writes `state` into a record; the stored request goes away with the pending-in flag. */
export function withState(record: RosterItem, state: SubscriptionState): RosterItem {
  return {
    ...record,
    subscription: subscriptionOf(state.to, state.from),
    ask: state.pendingOut,
    pendingIn: state.pendingIn,
    pendingInStanza: state.pendingIn ? record.pendingInStanza : null,
  };
}

/** Tells whether two states are the same. */
export function sameState(a: SubscriptionState, b: SubscriptionState): boolean {
  return a.to === b.to && a.from === b.from && a.pendingOut === b.pendingOut && a.pendingIn === b.pendingIn;
}

/** Processes a subscription stanza the user sends (RFC 6121 Appendix A.2, without pre-approval). */
export function outboundTransition(type: SubscriptionType, state: SubscriptionState): Transition {
  switch (type) {
    case 'subscribe':
      return { forward: true, next: state.to ? state : { ...state, pendingOut: true } };
    case 'unsubscribe':
      return { forward: true, next: { ...state, to: false, pendingOut: false } };
    case 'subscribed':
      return { forward: state.pendingIn, next: state.pendingIn ? { ...state, from: true, pendingIn: false } : state };
    case 'unsubscribed':
      return { forward: state.pendingIn || state.from, next: { ...state, from: false, pendingIn: false } };
  }
}

/** Processes a subscription stanza from the contact (RFC 6121 Appendix A.3, without pre-approval or auto-replies). */
export function inboundTransition(type: SubscriptionType, state: SubscriptionState): Transition {
  switch (type) {
    case 'subscribe': {
      const forward = !state.from && !state.pendingIn;
      return { forward, next: forward ? { ...state, pendingIn: true } : state };
    }
    case 'unsubscribe':
      return { forward: state.pendingIn || state.from, next: { ...state, from: false, pendingIn: false } };
    case 'subscribed':
      return { forward: state.pendingOut, next: state.pendingOut ? { ...state, to: true, pendingOut: false } : state };
    case 'unsubscribed':
      return { forward: state.pendingOut || state.to, next: { ...state, to: false, pendingOut: false } };
  }
}
