import { type Element, JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { sharedContactsOf } from '../roster/overlay.js';
import { startSession } from './initial.js';
import { readPriority, readdress } from './stanzas.js';

/**
 * Handles available presence without a 'to' (RFC 6121 4.2 and 4.4). It stores the stanza
 * as the session's presence and sends it to the subscribers and to every available
 * resource of the account, the sender included. The first one also runs startSession.
 */
export async function publishAvailable(server: ServerContext, session: ClientSession, stanza: Element): Promise<void> {
  const initial = session.presence === undefined;
  const presence = readdress(stanza, session.jid!, undefined);
  session.presence = presence;
  session.priority = readPriority(presence);
  // Other cluster nodes record the presence before anyone gets it, so they route to the session as soon as its contacts could.
  await server.sessions.changed(session);

  await sendToSubscribers(server, session, presence);
  await sendToOwnResources(server, session, presence);
  if (initial) await startSession(server, session);
}

/**
 * Handles unavailable presence without a 'to' (RFC 6121 4.5), and the end of a session
 * that did not send one. Subscribers and the account's resources get it if the session
 * was available; every entity that got directed presence (RFC 6121 4.6.3) gets it too.
 */
export async function publishUnavailable(server: ServerContext, session: ClientSession, stanza: Element): Promise<void> {
  const wasAvailable = session.presence !== undefined;
  const presence = readdress(stanza, session.jid!, undefined);
  session.presence = undefined;
  await server.sessions.changed(session);

  let reached = new Set<string>();
  if (wasAvailable) {
    reached = await sendToSubscribers(server, session, presence);
    await sendToOwnResources(server, session, presence);
  }
  await sendToDirected(server, session, presence, reached);
}

/** Routes `presence` to each subscriber (subscription 'from' or 'both') and shared contact; returns their bare JIDs. */
async function sendToSubscribers(server: ServerContext, session: ClientSession, presence: Element): Promise<Set<string>> {
  const from = session.jid!;
  const subscribers = await server.storage.roster.listSubscribers(from.domain, from.local);
  const contacts = new Set([...subscribers.map((item) => item.contact), ...(await sharedContactsOf(server, from)).keys()]);
  const reached = new Set<string>();
  for (const contact of contacts) {
    const to = JID.parseOrNull(contact);
    if (to === null) continue;
    reached.add(to.toString());
    await server.router.route(readdress(presence, from, to), from, to);
  }
  return reached;
}

/** RFC 6121 4.2.2 and 4.4.2: the account's available resources, the sender included, see its presence. */
async function sendToOwnResources(server: ServerContext, session: ClientSession, presence: Element): Promise<void> {
  const from = session.jid!;
  const targets = new Set([...server.sessions.available(from.bare()), session]);
  for (const target of targets) {
    if (target.jid) target.send(readdress(presence, from, target.jid));
  }

  const { cluster } = server;
  for (const remote of cluster?.available(from) ?? []) {
    await cluster!.forward({ stanza: readdress(presence, from, remote.jid), from, to: remote.jid }, [remote], 'copy');
  }
}

/** Sends unavailable presence to the directed-presence set, skipping subscribers already reached, then clears the set. */
async function sendToDirected(server: ServerContext, session: ClientSession, presence: Element, reached: Set<string>): Promise<void> {
  const from = session.jid!;
  const targets = [...session.directedPresence];
  session.directedPresence.clear();
  for (const target of targets) {
    const to = JID.parseOrNull(target);
    if (to === null || reached.has(to.bare().toString())) continue;
    await server.router.route(readdress(presence, from, to), from, to);
  }
}
