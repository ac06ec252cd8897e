/** Client state of a session (XEP-0352): which stanzas an inactive client gets at once and which wait. */
import type { Element } from '@parley/xmpp';
import type { OutgoingFilter } from '../../c2s/session.js';
import { isChatStateOnly } from '../offline/policy.js';

/** Held stanzas beyond which everything held goes out, so that a busy roster cannot grow the buffer without end. */
export const MAX_HELD = 500;

/** The part of a session that client state uses: its outgoing filters. */
export interface FilterHost {
  addOutgoingFilter(filter: OutgoingFilter): () => void;
  sendPast(filter: OutgoingFilter, stanzas: Element[]): void;
}

/**
 * Returns the key under which an inactive session keeps `stanza` back, or undefined when it
 * must go out at once. Presence updates (available and unavailable) and chat-state-only messages
 * (XEP-0085) wait, and a newer one from the same full JID replaces the older. Everything
 * else is urgent: messages with content, receipts, subscription requests, errors, IQs.
 */
export function holdKey(stanza: Element): string | undefined {
  const from = stanza.attr('from') ?? '';
  if (stanza.name === 'presence') {
    const type = stanza.attr('type');
    return type === undefined || type === 'unavailable' ? `presence ${from}` : undefined;
  }
  if (stanza.name === 'message' && stanza.attr('type') !== 'error' && isChatStateOnly(stanza)) return `chat-state ${from}`;
  return undefined;
}

/**
 * The client state of one session, with the outgoing filter that applies it. A stream
 * starts active. While inactive, held stanzas keep the order in which their latest
 * versions arrived. An urgent stanza takes them all out before itself, so that the client
 * sees every sender's stanzas in order (RFC 6120 section 10.1).
 */
export class ClientState {
  private inactive = false;
  private readonly held = new Map<string, Element>();
  private readonly filter: OutgoingFilter = (stanza) => this.pass(stanza);

  constructor(private readonly session: FilterHost) {
    session.addOutgoingFilter(this.filter);
  }

  get isInactive(): boolean {
    return this.inactive;
  }

  get heldCount(): number {
    return this.held.size;
  }

  setInactive(): void {
    this.inactive = true;
  }

  /** Marks the client active and sends everything held, in order. */
  setActive(): void {
    this.inactive = false;
    const held = this.takeHeld();
    if (held.length > 0) this.session.sendPast(this.filter, held);
  }

  private pass(stanza: Element): Element[] {
    if (!this.inactive) return [stanza];
    const key = holdKey(stanza);
    if (key === undefined) return [...this.takeHeld(), stanza];
    // Deleted first, so that the replacement takes the place of the newest held stanza.
    this.held.delete(key);
    this.held.set(key, stanza);
    return this.held.size > MAX_HELD ? this.takeHeld() : [];
  }

  private takeHeld(): Element[] {
    const held = [...this.held.values()];
    this.held.clear();
    return held;
  }
}
