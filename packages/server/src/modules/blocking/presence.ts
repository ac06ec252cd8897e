/** Presence that follows a block or an unblock (XEP-0191, "User Blocks Contact" and "User Unblocks Contact"). */
import { type Element, JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { presenceOfType, readdress } from '../presence/stanzas.js';
import { BlockList } from './match.js';

/**
 * Returns the addresses among the user's subscribers that `items` cover: a subscriber's
 * bare JID, or the item itself when it names one resource of a subscriber. Only local
 * subscribers count.
 */
// TODO: include subscribers on other domains once the server has server-to-server connections.
async function coveredSubscribers(server: ServerContext, user: JID, items: readonly JID[]): Promise<JID[]> {
  const records = await server.storage.roster.listSubscribers(user.domain, user.local);
  const subscribers = records.map((record) => JID.parseOrNull(record.contact)).filter((contact): contact is JID => contact?.domain === server.config.domain);
  const known = new Set(subscribers.map(String));
  const list = new BlockList(items.filter((item) => item.resource === ''));
  const targets = subscribers.filter((subscriber) => list.blocks(subscriber));
  for (const item of items) {
    if (item.resource !== '' && known.has(item.bare().toString())) targets.push(item);
  }
  return targets;
}

/**
 * Sends unavailable presence from each available resource of `user` to the subscribers
 * that `items` cover, and from each resource that sent directed presence to a covered
 * address (which leaves the directed-presence set). `mark` is called on each stanza before
 * it is routed, so that the block filter lets it through.
 */
export async function withdrawPresence(server: ServerContext, user: JID, items: readonly JID[], mark: (stanza: Element) => void): Promise<void> {
  const targets = await coveredSubscribers(server, user, items);
  for (const session of server.sessions.available(user)) {
    for (const target of targets) await sendUnavailable(server, session.jid!, target, mark);
  }

  const list = new BlockList(items);
  for (const session of server.sessions.resources(user)) {
    for (const entry of [...session.directedPresence]) {
      const target = JID.parseOrNull(entry);
      if (target === null || !list.blocks(target)) continue;
      session.directedPresence.delete(entry);
      await sendUnavailable(server, session.jid!, target, mark);
    }
  }
}

/** Sends the current presence of each available resource of `user` to the subscribers that `items` cover. */
export async function restorePresence(server: ServerContext, user: JID, items: readonly JID[]): Promise<void> {
  const targets = await coveredSubscribers(server, user, items);
  for (const session of server.sessions.available(user)) {
    const from = session.jid!;
    for (const target of targets) await server.router.route(readdress(session.presence!, from, target), from, target);
  }
}

async function sendUnavailable(server: ServerContext, from: JID, to: JID, mark: (stanza: Element) => void): Promise<void> {
  const stanza = presenceOfType('unavailable', from, to);
  mark(stanza);
  await server.router.route(stanza, from, to);
}
