import type { Element } from '@parley/xmpp';
import type { RosterChanges } from '../../storage/index.js';
import { itemElement, removedItemElement } from './items.js';
import { rosterItems } from './records.js';

/** One roster push that brings a client from its cached roster version to the current one. */
export interface VersionPush {
  item: Element;
  version: number;
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
 * Plans the pushes that replace a full roster result (RFC 6121 2.6.3). Removals go first
 * and keep the client's version, because storage does not say when each removal happened:
 * a client cut off midway must not store a version that skips a removal it never got.
 * Changed items follow in the order of their versions, and the last push carries the
 * current version. Stored requests that are not roster items are left out, so the plan
 * may be empty although the version changed.
 * NOTE: a deleted stored request still gets a removal push, because tombstones do not say
 * whether the contact was a roster item. Clients ignore the removal of an unknown item.
 */
export function planVersionPushes(changes: RosterChanges, clientVersion: number): VersionPush[] {
  const pushes: VersionPush[] = changes.removed.map((contact) => ({ item: removedItemElement(contact), version: clientVersion }));
  for (const item of rosterItems(changes.items)) {
    pushes.push({ item: itemElement(item), version: item.version ?? changes.version });
  }

  const last = pushes.at(-1);
  if (last) last.version = changes.version;
  return pushes;
}
