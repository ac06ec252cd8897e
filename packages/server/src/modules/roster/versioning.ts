import type { Element } from '@parley/xmpp';
import type { RosterChanges } from '../../storage/index.js';
import { itemElement, removedItemElement } from './items.js';
import { type SharedContact, mergeShared } from './overlay.js';
import { isRosterItem } from './records.js';

/** One roster push that brings a client from its cached roster version to the current one. */
export interface VersionPush {
  item: Element;
  version: number | string;
}

/**
 * Reads the 'ver' attribute of a roster get (RFC 6121 2.6.2). Returns undefined when the
 * client sent none, or a value this server never issued (versions are decimal integers):
 * the client then gets the whole roster.
 */
export function parseClientVersion(ver: string | undefined): number | undefined {
  if (ver === undefined || !/^\d{1,15}$/.test(ver)) return undefined;
  return Number(ver);
}

/**
 * Reads a 'ver' that may carry a shared-contacts tag after the stored version
 * (`composeVersion` in overlay.ts). Returns undefined for a value this server never issued.
 */
export function parseTaggedVersion(ver: string | undefined): { stored: number; tag: string } | undefined {
  const match = ver === undefined ? null : /^(\d{1,15})(?:-([A-Za-z0-9_-]{1,32}))?$/.exec(ver);
  if (match === null) return undefined;
  return { stored: Number(match[1]), tag: match[2] ?? '' };
}

/**
 * Plans the pushes that replace a full roster result (RFC 6121 2.6.3). Removals go first
 * and keep the client's version, because storage does not say when each removal happened:
 * a client cut off midway must not store a version that skips a removal it never got.
 * Changed items follow in the order of their versions, and the last push carries the
 * current version. Stored requests that are not roster items are left out, so the plan
 * may be empty although the version changed.
 * NOTE: a deleted stored request still gets a removal push, because tombstones do not say
 * whether the contact was a roster item. Clients ignore the removal of an unknown item.
 * A removed or changed record of a contact in `shared` is pushed as the shared item.
 */
export function planVersionPushes(changes: RosterChanges, clientVersion: number, shared = new Map<string, SharedContact>()): VersionPush[] {
  const pushes: VersionPush[] = changes.removed.map((contact) => {
    const sharedContact = shared.get(contact);
    return { item: sharedContact ? itemElement(mergeShared(null, sharedContact)) : removedItemElement(contact), version: clientVersion };
  });
  for (const record of changes.items) {
    const sharedContact = shared.get(record.contact);
    if (sharedContact) pushes.push({ item: itemElement(mergeShared(record, sharedContact)), version: record.version ?? changes.version });
    else if (isRosterItem(record)) pushes.push({ item: itemElement(record), version: record.version ?? changes.version });
  }

  const last = pushes.at(-1);
  if (last) last.version = changes.version;
  return pushes;
}
