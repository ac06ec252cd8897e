/** The effects of a block on routing (XEP-0191 section 3). */
import { type Element, type JID, StanzaError, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent, StanzaEvent } from '../../core/events.js';
import type { BlockLists } from './lists.js';
import { NS_BLOCKING_ERRORS } from './ns.js';

/** Tells whether the stanza is one that never gets an error reply: an error, or an IQ result. */
function isReplyless(stanza: Element): boolean {
  const type = stanza.attr('type');
  return type === 'error' || (stanza.name === 'iq' && type === 'result');
}

/**
 * Stops stanzas between a user and the addresses the user blocked. Stanzas within one
 * account, and stanzas to or from the server's own domain JID, are never stopped, so a user
 * who blocks the whole domain can still talk to the server.
 */
export class BlockFilter {
  /** Stanzas the blocking module itself sends to a blocked address: unavailable presence after a block. */
  private readonly allowed = new WeakSet<Element>();

  constructor(
    private readonly server: ServerContext,
    private readonly lists: BlockLists,
  ) {}

  /** Lets `stanza` pass the sender's block list. The module uses it for the unavailable presence that a block sends. */
  allow(stanza: Element): void {
    this.allowed.add(stanza);
  }

  /**
   * Handles the outbound events of messages, presence and IQs. A stanza to an address the
   * user blocked gets not-acceptable with `<blocked/>`. A message or IQ to a local account
   * that blocked the user is rejected here too, before the archive stores it, the same way
   * the recipient's side would reject it.
   */
  async outbound(event: OutboundEvent): Promise<boolean> {
    const { stanza, session, to } = event;
    const user = session.jid!;
    if (!to || this.exempt(user, to)) return false;

    if (await this.lists.blocks(user, to)) {
      if (!isReplyless(stanza)) {
        const blocked = new StanzaError('not-acceptable', 'You have blocked this address.', { type: 'cancel', extra: x('blocked', NS_BLOCKING_ERRORS) });
        this.server.router.bounce(stanza, blocked);
      }
      return true;
    }
    if (stanza.name === 'presence' || !this.isLocalAccount(to)) return false;
    if (!(await this.lists.blocks(to, user))) return false;
    this.rejectInbound(stanza);
    return true;
  }

  /**
   * Handles the inbound routing events of local accounts. A stanza from an address the
   * recipient blocked is rejected. A stanza that the server generated for a local account
   * (presence broadcasts, replies to probes) is dropped when that account blocked the recipient.
   */
  async inbound(event: StanzaEvent): Promise<boolean> {
    const { stanza, from, to } = event;
    if (this.exempt(from, to)) return false;

    if (await this.lists.blocks(to, from)) {
      this.rejectInbound(stanza);
      return true;
    }
    if (!this.isLocalAccount(from) || this.allowed.has(stanza)) return false;
    return this.lists.blocks(from, to);
  }

  /**
   * Handles 'stored/deliver': drops an offline message or subscription request that a
   * contact sent before the user blocked it. The sender got no error when it was stored and
   * gets none now, as if the user had never come online.
   */
  async stored(event: StanzaEvent): Promise<boolean> {
    const { from, to } = event;
    if (this.exempt(from, to)) return false;
    return this.lists.blocks(to, from);
  }

  /**
   * Follows XEP-0191, "Blocked Entity Attempts to Communicate with User": presence gets no
   * reply, and a message or an IQ get or set gets service-unavailable, as if the user were
   * offline. Other stanzas are dropped.
   */
  private rejectInbound(stanza: Element): void {
    if (stanza.name === 'presence' || isReplyless(stanza)) return;
    this.server.router.bounce(stanza, new StanzaError('service-unavailable'));
  }

  private exempt(from: JID, to: JID): boolean {
    if (from.local === to.local && from.domain === to.domain) return true;
    return this.isServer(from) || this.isServer(to);
  }

  private isServer(address: JID): boolean {
    return address.local === '' && address.resource === '' && address.domain === this.server.config.domain;
  }

  private isLocalAccount(address: JID): boolean {
    return address.local !== '' && address.domain === this.server.config.domain;
  }
}
