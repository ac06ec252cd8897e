import type { RosterItem } from '../../storage/index.js';
import { asRosterItem, itemlessRequest, newRosterItem } from '../roster/records.js';
import {
  type SubscriptionState,
  type SubscriptionType,
  inboundTransition,
  outboundTransition,
  sameState,
  stateOf,
  withState,
} from './states.js';

/** The outcome of a subscription stanza the user sent: the record to store and the routing decision. */
export interface OutboundDecision {
  record: RosterItem | null;
  forward: boolean;
}

/** The outcome of an inbound subscription stanza: the record to store, delivery, and approval on the user's behalf. */
export interface InboundDecision {
  record: RosterItem | null;
  deliver: boolean;
  /** Reply "subscribed" for the user: the contact is already subscribed, or was pre-approved (RFC 6121 3.1.3, 3.4). */
  approve: boolean;
}

/**
 * Applies Appendix A.2 of RFC 6121 to the stored record. Sending "subscribe" or
 * "subscribed" makes the contact a roster item if it was not one (RFC 6121 3.1.2 and
 * 3.1.5). "subscribed" without a pending request pre-approves the contact (3.4).
 */
export function decideOutbound(type: SubscriptionType, current: RosterItem | null, contact: string): OutboundDecision {
  const state = stateOf(current);
  const transition = outboundTransition(type, state);
  if (!transition.forward && type === 'subscribed') return { record: preApprove(current, state, contact), forward: false };
  if (!transition.forward && type === 'unsubscribed') return { record: cancelPreApproval(current), forward: false };
  if (sameState(state, transition.next)) return { record: current, forward: transition.forward };

  const base = current ?? newRosterItem(contact);
  const createsItem = type === 'subscribe' || type === 'subscribed';
  let record = withState(createsItem ? asRosterItem(base) : base, transition.next);
  if (type === 'unsubscribed') record = { ...record, approved: false };
  return { record, forward: transition.forward };
}

/**
 * Applies Appendix A.3 of RFC 6121 to the stored record. `stanzaXml` is the inbound
 * request, kept for delivery at the user's next initial presence. A request from a
 * contact the user never added is stored without becoming a roster item.
 */
export function decideInbound(type: SubscriptionType, current: RosterItem | null, contact: string, stanzaXml: string): InboundDecision {
  const state = stateOf(current);
  if (type === 'subscribe') return decideInboundSubscribe(current, state, contact, stanzaXml);

  const transition = inboundTransition(type, state);
  if (current === null || sameState(state, transition.next)) return { record: current, deliver: transition.forward, approve: false };
  return { record: withState(current, transition.next), deliver: transition.forward, approve: false };
}

function decideInboundSubscribe(current: RosterItem | null, state: SubscriptionState, contact: string, stanzaXml: string): InboundDecision {
  if (state.from) return { record: current, deliver: false, approve: true };
  if (state.pendingIn) return { record: current, deliver: false, approve: false };
  if (current?.approved) {
    return { record: { ...withState(current, { ...state, from: true }), approved: false }, deliver: false, approve: true };
  }

  const base = current ?? itemlessRequest(contact, stanzaXml);
  const record = { ...withState(base, { ...state, pendingIn: true }), pendingInStanza: stanzaXml };
  return { record, deliver: true, approve: false };
}

/** RFC 6121 3.4: marks the contact as pre-approved, creating the item if needed; nothing to do once it is subscribed. */
function preApprove(current: RosterItem | null, state: SubscriptionState, contact: string): RosterItem | null {
  if (state.from || current?.approved) return current;
  return { ...asRosterItem(current ?? newRosterItem(contact)), approved: true };
}

/** RFC 6121 3.4: "unsubscribed" with nothing to deny withdraws a pre-approval. */
function cancelPreApproval(current: RosterItem | null): RosterItem | null {
  if (!current?.approved) return current;
  return { ...current, approved: false };
}
