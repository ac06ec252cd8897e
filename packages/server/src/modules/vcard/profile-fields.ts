/**
 * The vCard fields (XEP-0054) that an account profile owns: FN, EMAIL, TEL, ORG, TITLE
 * and PHOTO. Writing them replaces only those elements, so fields the user set that the
 * profile does not own (NICKNAME, ADR, BDAY, URL, DESC, ...) stay.
 */
import { type Element, NS, x } from '@parley/xmpp';
import type { AccountProfile, StoredAvatar } from '../../storage/index.js';

/** Profile values as the vCard shows them; undefined leaves the field alone, null removes it. */
export interface ProfileFields {
  fullName?: string | null;
  email?: string | null;
  phone?: string | null;
  /** Organisation name and department name, for ORG/ORGNAME and ORG/ORGUNIT. */
  org?: { name: string; unit: string | null } | null;
  title?: string | null;
}

/** The vCard elements each profile field writes. */
const ELEMENTS: Record<keyof ProfileFields, string> = { fullName: 'FN', email: 'EMAIL', phone: 'TEL', org: 'ORG', title: 'TITLE' };

/** Builds the fields from a profile, keeping only those named in `fields` (all when undefined). */
export function profileFields(profile: AccountProfile, organization: string, departmentName: string | null, fields?: ReadonlySet<keyof ProfileFields>): ProfileFields {
  const all: ProfileFields = {
    fullName: profile.displayName,
    email: profile.email,
    phone: profile.phone,
    org: organization === '' && departmentName === null ? null : { name: organization, unit: departmentName },
    title: profile.title,
  };
  if (fields === undefined) return all;
  return Object.fromEntries(Object.entries(all).filter(([key]) => fields.has(key as keyof ProfileFields))) as ProfileFields;
}

/** Returns a copy of `vcard` with the given fields replaced; returns the same content when nothing differs. */
export function applyProfileFields(vcard: Element, fields: ProfileFields): Element {
  const result = vcard.clone();
  for (const [key, value] of Object.entries(fields) as [keyof ProfileFields, ProfileFields[keyof ProfileFields]][]) {
    if (value === undefined) continue;
    const name = ELEMENTS[key];
    result.removeChildren((child) => child.name === name && child.ns === NS.VCARD);
    const element = value === null ? undefined : fieldElement(key, value);
    if (element) result.append(element);
  }
  return result;
}

function fieldElement(key: keyof ProfileFields, value: NonNullable<ProfileFields[keyof ProfileFields]>): Element | undefined {
  const child = (name: string, text?: string): Element => x(name, NS.VCARD, {}, text);
  switch (key) {
    case 'fullName':
      return child('FN', value as string);
    case 'email':
      return x('EMAIL', NS.VCARD, {}, child('INTERNET'), child('PREF'), child('USERID', value as string));
    case 'phone':
      return x('TEL', NS.VCARD, {}, child('WORK'), child('VOICE'), child('NUMBER', value as string));
    case 'org': {
      const org = value as { name: string; unit: string | null };
      return x('ORG', NS.VCARD, {}, child('ORGNAME', org.name), org.unit === null ? undefined : child('ORGUNIT', org.unit));
    }
    case 'title':
      return child('TITLE', value as string);
  }
  return undefined;
}

/** Returns a copy of `vcard` whose PHOTO holds `avatar`, or has no PHOTO when `avatar` is null. */
export function withPhoto(vcard: Element, avatar: Pick<StoredAvatar, 'type' | 'data'> | null): Element {
  const result = vcard.clone();
  result.removeChildren((child) => child.name === 'PHOTO' && child.ns === NS.VCARD);
  if (avatar !== null) {
    result.append(x('PHOTO', NS.VCARD, {}, x('TYPE', NS.VCARD, {}, avatar.type), x('BINVAL', NS.VCARD, {}, avatar.data.toString('base64'))));
  }
  return result;
}

/** Reads the image of the vCard's PHOTO/BINVAL with its TYPE (image/png when absent), or null. */
export function photoOf(vcard: Element): { type: string; data: Buffer } | null {
  const photo = vcard.getChild('PHOTO', NS.VCARD);
  const binval = photo?.getChildText('BINVAL', NS.VCARD);
  if (binval === undefined) return null;
  const data = Buffer.from(binval.replace(/\s+/g, ''), 'base64');
  if (data.length === 0) return null;
  return { type: photo?.getChildText('TYPE', NS.VCARD)?.trim() || 'image/png', data };
}
