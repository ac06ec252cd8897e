/** Builds the disco#info and disco#items results (XEP-0030) of the server and of accounts. */
import { type Element, NS, x } from '@parley/xmpp';
import type { Disco, DiscoIdentity } from '../../core/disco-registry.js';
import { compareOctets } from './caps.js';

function infoQuery(identities: DiscoIdentity[], features: Iterable<string>, forms: Element[], node?: string): Element {
  const query = x('query', NS.DISCO_INFO, { node });
  for (const { category, type, name } of identities) query.append(x('identity', NS.DISCO_INFO, { category, type, name }));
  for (const feature of [...features].sort(compareOctets)) query.append(x('feature', NS.DISCO_INFO, { var: feature }));
  query.append(...forms);
  return query;
}

/** Builds the server's disco#info `<query/>`, with `node` mirrored when given. */
export function hostInfo(disco: Disco, node?: string): Element {
  const forms = disco.hostExtensions.map((build) => build());
  return infoQuery(disco.hostIdentities, disco.hostFeatures, forms, node);
}

/** Builds the disco#info `<query/>` the server returns on behalf of an account's bare JID. */
export function accountInfo(disco: Disco): Element {
  return infoQuery(disco.accountIdentities, disco.accountFeatures, []);
}

/** Builds the server's disco#items `<query/>`: its services, such as a MUC domain. */
export function hostItems(disco: Disco): Element {
  const query = x('query', NS.DISCO_ITEMS);
  for (const item of disco.hostItems) query.append(x('item', NS.DISCO_ITEMS, { jid: item.jid, name: item.name }));
  return query;
}
