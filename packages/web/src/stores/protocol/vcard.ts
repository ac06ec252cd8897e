import { x, type XElement, type XmppClientLike } from '../../xmpp/index.js';
import { NS } from './ns.js';

/** The vCard fields the profile screen edits (XEP-0054). */
export interface Profile {
  fullName: string;
  nickname: string;
  organisation: string;
  department: string;
  jobTitle: string;
  email: string;
  phone: string;
  note: string;
}

export function emptyProfile(): Profile {
  return { fullName: '', nickname: '', organisation: '', department: '', jobTitle: '', email: '', phone: '', note: '' };
}

function text(parent: XElement | undefined, ...path: string[]): string {
  let node = parent;
  for (const name of path) node = node?.getChild(name, NS.VCARD);
  return node?.text() ?? '';
}

export function parseVCard(vcard: XElement | undefined): Profile {
  return {
    fullName: text(vcard, 'FN'),
    nickname: text(vcard, 'NICKNAME'),
    organisation: text(vcard, 'ORG', 'ORGNAME'),
    department: text(vcard, 'ORG', 'ORGUNIT'),
    jobTitle: text(vcard, 'TITLE'),
    email: text(vcard, 'EMAIL', 'USERID'),
    phone: text(vcard, 'TEL', 'NUMBER'),
    note: text(vcard, 'DESC'),
  };
}

export function buildVCard(profile: Profile): XElement {
  const field = (name: string, value: string) => value !== '' && x(name, NS.VCARD, {}, value);
  return x(
    'vCard',
    NS.VCARD,
    {},
    field('FN', profile.fullName),
    field('NICKNAME', profile.nickname),
    (profile.organisation || profile.department) && x('ORG', NS.VCARD, {}, field('ORGNAME', profile.organisation), field('ORGUNIT', profile.department)),
    field('TITLE', profile.jobTitle),
    profile.email && x('EMAIL', NS.VCARD, {}, x('INTERNET', NS.VCARD), x('USERID', NS.VCARD, {}, profile.email)),
    profile.phone && x('TEL', NS.VCARD, {}, x('VOICE', NS.VCARD), x('NUMBER', NS.VCARD, {}, profile.phone)),
    field('DESC', profile.note),
  );
}

/** Fetches the vCard of `jid`, or of the account when `jid` is undefined. */
export async function fetchVCard(client: XmppClientLike, jid?: string): Promise<Profile> {
  const result = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: jid }, x('vCard', NS.VCARD)));
  return parseVCard(result.getChild('vCard', NS.VCARD));
}

export async function publishVCard(client: XmppClientLike, profile: Profile): Promise<void> {
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, buildVCard(profile)));
}
