import { type Element, serialize } from '@parley/xmpp';
import type { OutgoingFilter, SessionState } from '../c2s/session.js';

/** The part of a session that the hold uses. */
export interface HoldHost {
  readonly state: SessionState;
  addOutgoingFilter(filter: OutgoingFilter): () => void;
  sendPast(filter: OutgoingFilter, stanzas: Element[]): void;
  send(stanza: Element): void;
}

/**
 * Holds back the stanzas that reach a session which just arrived from another cluster node,
 * until the stanzas the old node received meanwhile are here. While the other nodes learn
 * of the move, a stanza to the account's bare JID may reach both nodes. The old node
 * forwards its copy, and `release` drops it. The direct copy always arrives first, because
 * both come over this node's one Redis subscription and the old node forwards only after
 * the new registry entry was published.
 */
export class ArrivalHold {
  private heldStanzas: Element[] | undefined = [];
  private session: HoldHost | undefined;
  private removeFilter: (() => void) | undefined;
  private readonly filter: OutgoingFilter = (stanza) => {
    if (this.heldStanzas === undefined) return [stanza];
    this.heldStanzas.push(stanza);
    return [];
  };

  /** Starts holding what is sent to `session`; call before anything else filters its stanzas. */
  attach(session: HoldHost): void {
    this.session = session;
    this.removeFilter = session.addOutgoingFilter(this.filter);
  }

  /**
   * Sends `forwarded` without the stanzas held here too, then the held ones, and stops
   * holding; after that, sends `forwarded` as it is. Returns what it could not send because
   * the session ended.
   */
  release(forwarded: Element[]): Element[] {
    const session = this.session!;
    const stanzas = this.heldStanzas === undefined ? forwarded : [...withoutCopies(forwarded, this.heldStanzas), ...this.heldStanzas];
    const first = this.heldStanzas !== undefined;
    this.heldStanzas = undefined;
    if (session.state === 'closed') {
      this.removeFilter?.();
      return stanzas;
    }
    if (first) session.sendPast(this.filter, stanzas);
    else for (const stanza of stanzas) session.send(stanza);
    this.removeFilter?.();
    this.removeFilter = undefined;
    return [];
  }
}

/** Returns the stanzas of `forwarded` that do not also occur in `direct`, each direct stanza matching once. */
function withoutCopies(forwarded: Element[], direct: Element[]): Element[] {
  const counts = new Map<string, number>();
  for (const stanza of direct) {
    const key = serialize(stanza);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return forwarded.filter((stanza) => {
    const key = serialize(stanza);
    const count = counts.get(key) ?? 0;
    if (count === 0) return true;
    counts.set(key, count - 1);
    return false;
  });
}
