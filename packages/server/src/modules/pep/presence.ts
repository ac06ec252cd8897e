/**
 * Handling of a client's own presence for PEP. The module learns the client's caps and
 * sends the last published items of the nodes the client newly announced `+notify` for
 * (XEP-0163 section 4.3.2), from its own account and from the contacts whose presence it
 * receives.
 */
import { JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { OutboundEvent } from '../../core/events.js';
import { BlockList } from '../blocking/match.js';
import { OWNER, loadRelation } from './access.js';
import type { PepService } from './service.js';

const NOTIFY_SUFFIX = '+notify';

/** Returns the node names of the `+notify` features among `features`. */
export function notifyNodes(features: Iterable<string>): string[] {
  return [...features].filter((feature) => feature.endsWith(NOTIFY_SUFFIX)).map((feature) => feature.slice(0, -NOTIFY_SUFFIX.length));
}

// TODO: send the last items when a presence subscription is approved (send_last_published_item on_sub); now they come with the contact's next initial presence.
export class PresenceTracker {
  /** Per available session, the nodes whose last item it got since its initial presence. */
  private readonly served = new WeakMap<ClientSession, Set<string>>();

  constructor(private readonly service: PepService) {}

  /**
   * Observes presence a client broadcasts, without claiming it. Initial presence and a
   * change of caps schedule the last items. Unavailable presence clears what the session
   * got, so its next available presence counts as initial again.
   */
  observe({ stanza, session, to }: OutboundEvent): void {
    if (to !== undefined) return;
    const type = stanza.attr('type');
    if (type === 'unavailable') {
      this.served.delete(session);
      return;
    }
    if (type !== undefined) return;

    const changed = this.service.caps.update(session, stanza);
    const initial = !this.served.has(session);
    if (initial) this.served.set(session, new Set());
    if (!changed && !initial) return;

    // The presence module stores the session's presence after this hook; run once it has.
    setImmediate(() => {
      this.sendNewInterests(session)
        .then(() => this.service.server.hooks.fire('pep/last-items-sent', { session }))
        .catch((err: unknown) => session.log.error({ err }, 'sending the last PEP items failed'));
    });
  }

  private async sendNewInterests(session: ClientSession): Promise<void> {
    const features = await this.service.caps.features(session);
    const served = this.served.get(session);
    const user = session.jid;
    if (served === undefined || session.presence === undefined || user === undefined) return;

    const fresh = notifyNodes(features).filter((node) => !served.has(node));
    for (const node of fresh) served.add(node);
    if (fresh.length === 0) return;

    await this.service.sendLastItems(user.bare(), session, fresh, OWNER);
    await this.sendFromContacts(session, user, fresh);
  }

  private async sendFromContacts(session: ClientSession, user: JID, nodes: string[]): Promise<void> {
    const { server } = this.service;
    const contacts = await server.storage.roster.listSubscriptions(user.domain, user.local);
    for (const record of contacts) {
      const contact = JID.parseOrNull(record.contact);
      if (contact === null || contact.domain !== server.config.domain || contact.local === '') continue;

      const blocked = BlockList.fromStored(await server.storage.blocklist.list(contact.domain, contact.local));
      if (blocked.blocks(user)) continue;
      await this.service.sendLastItems(contact, session, nodes, await loadRelation(server, contact, user));
    }
  }
}
