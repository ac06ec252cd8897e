import { type Element, type JID, NS, StanzaError, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { itemElement } from './items.js';
import { type SharedContact, composeVersion, mergeRoster, sharedContactsOf, sharedTag } from './overlay.js';
import { pushToSession } from './push.js';
import { type VersionPush, parseTaggedVersion, planVersionPushes } from './versioning.js';

/**
 * Handles a roster get (RFC 6121 2.2) and marks the session as interested in pushes.
 * With a 'ver' attribute (RFC 6121 2.6.3) the result is empty when the client is up to
 * date, or empty and followed by one push per change, or else the whole roster. A
 * version carries a tag of the shared contacts (overlay.ts); when they changed, the
 * client gets the whole roster.
 */
export async function handleRosterGet(server: ServerContext, request: IqRequest): Promise<Element | undefined> {
  if (!request.self) throw new StanzaError('forbidden', 'A user can only read its own roster.');
  const user = request.from.bare();
  if (request.session) request.session.rosterInterested = true;

  const shared = await sharedContactsOf(server, user);
  const clientVersion = parseTaggedVersion(request.payload.attr('ver'));
  if (clientVersion !== undefined && clientVersion.tag === sharedTag(shared)) {
    const pushes = await pushesSince(server, user, clientVersion.stored, shared);
    if (pushes !== undefined) {
      if (request.session) sendAfterResult(request.session, pushes);
      return undefined;
    }
  }
  return fullRoster(server, user, shared);
}

/** Returns the pushes that update a client at `clientVersion`, or undefined when it needs the whole roster. */
async function pushesSince(server: ServerContext, user: JID, clientVersion: number, shared: Map<string, SharedContact>): Promise<VersionPush[] | undefined> {
  const roster = server.storage.roster;
  if (clientVersion === (await roster.version(user.domain, user.local))) return [];

  const changes = await roster.changesSince(user.domain, user.local, clientVersion);
  if (changes === null) return undefined;
  const tag = sharedTag(shared);
  const pushes = planVersionPushes(changes, clientVersion, shared).map((push) => ({ ...push, version: composeVersion(Number(push.version), tag) }));
  return pushes.length > 0 ? pushes : undefined;
}

async function fullRoster(server: ServerContext, user: JID, shared: Map<string, SharedContact>): Promise<Element> {
  // The version is read first: a change made in between is then pushed with a newer version.
  const version = await server.storage.roster.version(user.domain, user.local);
  const items = mergeRoster(await server.storage.roster.list(user.domain, user.local), shared);
  return x('query', NS.ROSTER, { ver: composeVersion(version, sharedTag(shared)) }, ...items.map(itemElement));
}

/**
 * RFC 6121 2.6.3 requires the empty result first and the pushes after it. The dispatcher
 * sends the result in the microtasks that follow the handler's return, without I/O in
 * between, so a macrotask queued now runs after the result is out.
 */
function sendAfterResult(session: ClientSession, pushes: VersionPush[]): void {
  if (pushes.length === 0) return;
  setImmediate(() => {
    for (const push of pushes) pushToSession(session, push.item, push.version);
  });
}
