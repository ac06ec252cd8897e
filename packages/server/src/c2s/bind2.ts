/**
 * Bind 2 (XEP-0386): resource binding inside a SASL2 `<authenticate/>`, with stream
 * management, carbons and client state enabled in the same step.
 */
import { createHash } from 'node:crypto';
import { type Element, type JID, JidError, NS, StanzaError, jid, x } from '@parley/xmpp';

import { setCarbons } from '../modules/carbons/copies.js';
import { NS_CARBONS } from '../modules/carbons/ns.js';
import { claimEndedResource, generateResource } from './bind.js';
import type { ClientSession } from './session.js';
import { startStreamManagement } from './stream-management.js';

export const NS_BIND2 = 'urn:xmpp:bind:0';
/** Characters of a client's tag kept in its resource. */
const MAX_TAG_LENGTH = 64;

/** Builds the Bind 2 feature for the SASL2 `<inline/>`, with the session features it can enable. */
export function bind2Feature(session: ClientSession): Element {
  const features: string[] = [NS.SM];
  if (session.server.disco.hostFeatures.has(NS_CARBONS)) features.push(NS_CARBONS);
  if (csiAvailable(session)) features.push(NS.CSI);
  return x('bind', NS_BIND2, {}, x('inline', NS_BIND2, {}, ...features.map((feature) => x('feature', NS_BIND2, { var: feature }))));
}

/**
 * Chooses the full JID for a Bind 2 request: `tag/id`, where the id is stable for one
 * account, tag and user-agent id (XEP-0386 section 3.1) and reveals nothing of the
 * user-agent id. Returns the error when the resource cannot be had.
 */
export async function chooseBind2Jid(session: ClientSession, bind: Element, userAgentId: string | undefined): Promise<JID | StanzaError> {
  const tag = (bind.getChildText('tag', NS_BIND2) ?? '').trim().slice(0, MAX_TAG_LENGTH);
  const suffix = userAgentId === undefined ? generateResource().slice(-12) : stableSuffix(session.username!, tag, userAgentId);
  const requested = resourceFor(session, tag, suffix) ?? resourceFor(session, '', suffix);
  if (!requested) return new StanzaError('jid-malformed', 'No valid resource could be made for this client.');
  return claimEndedResource(session, requested);
}

/**
 * Enables what the `<bind/>` requests on a session about to be bound, and returns the
 * children of `<bound/>`: the XEP-0198 `<enabled/>` when stream management was requested.
 * Carbons and client state need no answer (XEP-0386 section 3).
 */
export async function enableInline(session: ClientSession, bind: Element): Promise<Element[]> {
  const answers: Element[] = [];
  for (const request of bind.elements()) {
    if (request.ns === NS.SM && request.name === 'enable') answers.push(startStreamManagement(session, request));
    else if (request.ns === NS_CARBONS && request.name === 'enable') setCarbons(session, true);
    else if (request.ns === NS.CSI && (request.name === 'active' || request.name === 'inactive')) await session.server.streamElements.handle(session, request);
  }
  return answers;
}

function csiAvailable(session: ClientSession): boolean {
  return session.server.streamFeatures.postAuth(session).some((feature) => feature.ns === NS.CSI);
}

function stableSuffix(username: string, tag: string, userAgentId: string): string {
  return createHash('sha256').update(`${username}\0${tag}\0${userAgentId}`).digest('base64url').slice(0, 12);
}

function resourceFor(session: ClientSession, tag: string, suffix: string): JID | undefined {
  try {
    return jid(session.username!, session.host, tag === '' ? suffix : `${tag}/${suffix}`);
  } catch (err) {
    if (err instanceof JidError) return undefined;
    throw err;
  }
}
