/** The routing side of message carbons (XEP-0280): which resources get which copies. */
import { type Element, type JID, StanzaError } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent, RoutedMessageEvent, StanzaEvent } from '../../core/events.js';
import { archiveIdOf } from '../mam/ids.js';
import { sendCopies, sentOriginal } from './copies.js';
import { type CarbonDirection, isCarbonCopy, isEligible } from './eligibility.js';
import { NS_CARBONS } from './ns.js';

/**
 * Sends sent and received carbons. Messages between resources of one account get no
 * copies: every resource of the account is a party to them already.
 */
export class Carbons {
  /** Messages whose `<private/>` was removed before delivery, so that they still get no copies. */
  private readonly privateMessages = new WeakSet<Element>();

  constructor(private readonly server: ServerContext) {}

  /**
   * Handles 'message/outbound': a client may not send a carbon copy, to anyone, because
   * copies carry the authority of the user's own server (XEP-0280 section 11). Claims the message.
   */
  rejectForged(event: OutboundEvent): boolean {
    if (!isCarbonCopy(event.stanza)) return false;
    event.session.log.debug('rejected a carbon copy sent by a client');
    this.server.router.bounce(event.stanza, new StanzaError('forbidden', 'Only the server sends carbon copies.'));
    return true;
  }

  /** Handles 'message/bare' and 'message/full': removes `<private/>` before delivery, as XEP-0280 section 9 recommends. */
  stripPrivate(event: StanzaEvent): void {
    const { stanza } = event;
    if (!stanza.getChild('private', NS_CARBONS)) return;
    this.privateMessages.add(stanza);
    stanza.removeChildren((child) => child.name === 'private' && child.ns === NS_CARBONS);
  }

  /** Handles 'message/sent': copies the message to the sender's other resources (XEP-0280 section 8). */
  copySent(event: OutboundEvent): void {
    const { stanza, session } = event;
    const sender = session.jid!;
    const to = event.to ?? sender.bare();
    if (to.bare().equals(sender.bare()) || !this.eligible(stanza, 'sent')) return;

    const others = this.server.sessions.resources(sender).filter((candidate) => candidate !== session);
    const archiveId = archiveIdOf(stanza, sender.bare().toString());
    const original = sentOriginal(stanza, sender, archiveId);
    sendCopies('sent', original, sender, others);
    this.relay('sent', original, sender, []);
  }

  /**
   * Handles 'message/routed': copies the message to the recipient's resources that did not
   * get it directly (XEP-0280 section 7). Those are the other resources when it went to one
   * full JID, and resources with a negative priority when it went to the bare JID.
   */
  copyReceived(event: RoutedMessageEvent): void {
    const user = event.to.bare();
    if (event.from.bare().equals(user) || !this.eligible(event.stanza, 'received')) return;

    // NOTE: a session that enabled carbons but has not sent initial presence also gets a copy of
    // a message stored offline, and gets the stored message again after its initial presence.
    const others = this.server.sessions.resources(user).filter((candidate) => !event.delivered.includes(candidate));
    const original = event.stanza.clone();
    sendCopies('received', original, user, others);
    this.relay('received', original, user, event.deliveredRemote ?? []);
  }

  /** Sends the copies for the user's resources on other cluster nodes, except `exclude` (full JIDs). */
  private relay(direction: CarbonDirection, original: Element, user: JID, exclude: string[]): void {
    this.server.cluster
      ?.relayCarbons(direction, original, user, exclude)
      .catch((err: unknown) => this.server.log.warn({ err }, 'relaying carbon copies to other cluster nodes failed'));
  }

  private eligible(message: Element, direction: CarbonDirection): boolean {
    return !this.privateMessages.has(message) && isEligible(message, direction);
  }
}
