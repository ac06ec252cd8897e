/** Discussion history for an occupant who joins a room (XEP-0045 section 7.2.15). */
import type { Logger } from 'pino';
import { type Element, type JID, NS, serialize, x } from '@parley/xmpp';
import type { MucArchivedMessage, Storage } from '../../../storage/index.js';
import { addStanzaId } from '../../mam/ids.js';
import { parseStored } from '../../mam/stored.js';
import { removeUserPayloads } from './source.js';

/** Limits an occupant requests with `<history/>`. Every limit that is given applies. */
export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  /** Milliseconds since the Unix epoch. */
  since?: number;
}

/** How many stanzas a join gets: `defaultMax` when the request names no limit, never more than `max` ([muc] history_max). */
export interface HistoryLimits {
  defaultMax: number;
  max: number;
}

/**
 * Returns the number of stanzas to read, at most `limits.max`. That is `maxstanzas` when
 * given, the default when the request names no limit, and otherwise `limits.max`, so that
 * the other limits decide.
 */
export function stanzaLimit(request: HistoryRequest, limits: HistoryLimits): number {
  const named = request.maxstanzas ?? (request.maxchars === undefined && request.seconds === undefined && request.since === undefined ? limits.defaultMax : limits.max);
  return Math.max(0, Math.min(named, limits.max));
}

/** Returns the earliest time a message may have, in milliseconds, or undefined for no bound. */
export function earliestTime(request: HistoryRequest, now: number): number | undefined {
  const bounds: number[] = [];
  if (request.since !== undefined) bounds.push(request.since);
  if (request.seconds !== undefined) bounds.push(now - request.seconds * 1000);
  return bounds.length === 0 ? undefined : Math.max(...bounds);
}

/**
 * Keeps the newest stanzas whose serialised characters together fit `maxchars`, from a
 * list ordered newest first. XEP-0045 counts the complete XML of each stanza.
 */
export function fitCharacters(newestFirst: Element[], maxchars: number | undefined): Element[] {
  if (maxchars === undefined) return newestFirst;
  const kept: Element[] = [];
  let total = 0;
  for (const stanza of newestFirst) {
    total += serialize(stanza).length;
    if (total > maxchars) break;
    kept.push(stanza);
  }
  return kept;
}

/** Builds the history stanza of an archived message: the stored one with its room stanza id and a delay from the room. */
export function historyStanza(room: JID, message: MucArchivedMessage): Element {
  const stanza = parseStored(message.stanza);
  removeUserPayloads(stanza);
  addStanzaId(stanza, room.toString(), message.stanzaId);
  stanza.removeChildren((child) => child.name === 'delay' && child.ns === NS.DELAY);
  return stanza.append(x('delay', NS.DELAY, { from: room.toString(), stamp: new Date(message.createdAt).toISOString() }));
}

/**
 * Reads the history that `request` names from the room's archive, oldest first. Subject
 * changes are left out, because the room sends the current subject after the history.
 */
export async function readHistory(storage: Storage, room: JID, request: HistoryRequest, limits: HistoryLimits, now: number, log: Logger): Promise<Element[]> {
  const limit = stanzaLimit(request, limits);
  if (limit === 0 || request.maxchars === 0) return [];

  const start = earliestTime(request, now);
  const filter = start === undefined ? { kind: 'message' as const } : { kind: 'message' as const, start };
  const newest = await storage.mucArchive.select({ service: room.domain, room: room.local }, filter, 'desc', limit);

  const stanzas: Element[] = [];
  for (const message of newest) {
    try {
      stanzas.push(historyStanza(room, message));
    } catch (err) {
      log.error({ err, room: room.toString(), stanzaId: message.stanzaId }, 'archived room stanza is not valid XML; left out of the history');
    }
  }
  return fitCharacters(stanzas, request.maxchars).reverse();
}
