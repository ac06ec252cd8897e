import { Element, JID, JidError, NS, StanzaError, StreamError, errorReply, jid, x } from '@parley/xmpp';
import { randomId } from '../core/random.js';
import type { ClientSession } from './session.js';

/**
 * Binds a resource (RFC 6120 section 7) and returns the IQ reply. An empty request gets
 * a server-generated resource; a resource already in use is handled by the configured
 * conflict policy (RFC 6120 7.7.2.2).
 */
export async function bindResource(session: ClientSession, iq: Element, bind: Element): Promise<Element> {
  const requested = bind.getChildText('resource', NS.BIND)?.trim();
  let full: JID;
  try {
    full = jid(session.username!, session.host, requested || generateResource());
  } catch (err) {
    if (!(err instanceof JidError)) throw err;
    return errorReply(iq, new StanzaError('jid-malformed', `Invalid resource: ${err.message}`));
  }

  const claimed = await claimEndedResource(session, full);
  if (claimed instanceof StanzaError) return errorReply(iq, claimed);
  full = claimed;
  if (session.state === 'closed') return errorReply(iq, new StanzaError('not-authorized', 'The stream closed during binding.'));

  session.onBound(full);
  // Other cluster nodes know the resource before the client can name it to anyone.
  await session.server.cluster?.settled();
  return x('iq', NS.CLIENT, { type: 'result', id: iq.attr('id') }, x('bind', NS.BIND, {}, x('jid', NS.BIND, {}, full.toString())));
}

/** Maximum wait for an earlier session of the same full JID to finish ending. */
const TEARDOWN_WAIT_MS = 5000;

/**
 * Claims `requested` as `claimResource` does, once an earlier session of the same full JID
 * (one that just closed, or one the 'replace' policy ends) has finished ending: its
 * unavailable presence and its rerouted stanzas must not overtake the new session's.
 */
export async function claimEndedResource(session: ClientSession, requested: JID): Promise<JID | StanzaError> {
  const { sessions } = session.server;
  await sessions.teardownOf(requested, TEARDOWN_WAIT_MS);
  const claimed = claimResource(session, requested);
  if (claimed instanceof StanzaError || !sessions.isEnding(claimed)) return claimed;

  await sessions.teardownOf(claimed, TEARDOWN_WAIT_MS);
  return claimResource(session, requested);
}

/**
 * Applies `sessions.resource_conflict` and `sessions.max_per_account` to `full`; returns the
 * JID to bind (renamed under 'rename') or the error to answer with.
 */
export function claimResource(session: ClientSession, requested: JID): JID | StanzaError {
  const { server } = session;
  let full = requested;
  const existing = server.sessions.get(full);
  if (existing) {
    const policy = server.config.sessions.resource_conflict;
    if (policy === 'reject') return new StanzaError('conflict', `The resource "${full.resource}" is already in use.`);
    if (policy === 'rename') full = full.withResource(`${full.resource}-${generateResource().slice(0, 6)}`);
    else existing.closeWithError(new StreamError('conflict', 'Replaced by a new session for the same resource.'));
  } else if (server.cluster?.locate(full)) {
    // Under 'replace' the other node ends its session when it learns of this one (cluster/cluster.ts).
    const policy = server.config.sessions.resource_conflict;
    if (policy === 'reject') return new StanzaError('conflict', `The resource "${full.resource}" is already in use.`);
    if (policy === 'rename') full = full.withResource(`${full.resource}-${generateResource().slice(0, 6)}`);
  }

  const count = server.sessions.resources(full.bare()).length + (server.cluster?.resources(full.bare()).length ?? 0);
  if (count >= server.config.sessions.max_per_account) {
    return new StanzaError('resource-constraint', `This account already has ${count} sessions, the maximum.`);
  }
  return full;
}

export function generateResource(): string {
  return `parley-${randomId(6)}`;
}
