/**
 * Corrections (XEP-0308) and retractions (XEP-0424 version 0.4) in the archive. Both name
 * the original by its 'id' attribute (or, for clients that use it, its origin-id), and
 * only the original's sender may apply them. The archive rewrites the original's row in
 * place and keeps its archive id, time and position. A correction replaces the row's
 * content with the correction's and sets `edited_at`. A retraction replaces it with a
 * `<retracted/>` tombstone and sets `retracted_at`. The correction or retraction stanza is
 * archived too, so that clients which keep their own history learn about the change.
 */
import { Element, NS, x } from '@parley/xmpp';
import type { Kysely } from 'kysely';
import type { ArchiveRepository, ArchiveRewrite, Database } from '../../storage/index.js';
import { indexTokens } from './search.js';
import { parseStored, serializeStored } from './stored.js';

/** A correction or retraction carried by a message, with the id of the message it applies to. */
export interface EditRequest {
  kind: 'correction' | 'retraction';
  ref: string;
}

/** The conversation in one archive where an edit looks for its original. */
export interface EditScope {
  host: string;
  username: string;
  /** Bare JID of the other party in this archive. */
  withBare: string;
  /** Bare JID of the edit's sender, who must have sent the original. */
  sender: string;
}

/** Returns the edit `message` requests, if any; a retraction wins over a correction. */
export function editOf(message: Element): EditRequest | undefined {
  const retract = message.getChild('retract', NS.RETRACT)?.attr('id');
  if (retract) return { kind: 'retraction', ref: retract };
  const replace = message.getChild('replace', NS.CORRECT)?.attr('id');
  if (replace) return { kind: 'correction', ref: replace };
  return undefined;
}

/** Children that belong to the correction stanza itself rather than to the content it carries. */
function isEnvelope(child: Element): boolean {
  if (child.ns === NS.CORRECT && child.name === 'replace') return true;
  return child.ns === NS.STANZA_ID || child.ns === NS.DELAY;
}

function copyShell(original: Element): Element {
  return new Element(original.name, original.ns, { ...original.attrs });
}

/** Builds the original with the correction's content; XEP-0308 section 4 replaces the payloads as a whole. */
export function correctedStanza(original: Element, correction: Element): Element {
  const result = copyShell(original);
  result.append(...correction.elements().filter((child) => !isEnvelope(child)).map((child) => child.clone()));
  result.append(original.getChild('origin-id', NS.STANZA_ID)?.clone());
  return result;
}

/** Builds the tombstone of a retracted message (XEP-0424 section 4): no content, only a `<retracted/>` that names the retraction. */
export function tombstone(original: Element, retraction: Element, stamp: number): Element {
  const result = copyShell(original);
  result.append(x('retracted', NS.RETRACT, { id: retraction.attr('id'), stamp: new Date(stamp).toISOString() }));
  result.append(original.getChild('origin-id', NS.STANZA_ID)?.clone());
  return result;
}

/** The messages of one archive where an edit looks for its original and rewrites it. */
export interface EditableArchive {
  /** Finds the edit sender's latest message that `ref` names, within `trx`. */
  findReferenced(trx: Kysely<Database>, ref: string): Promise<{ key: number; stanza: string; retractedAt: number | null } | undefined>;
  rewrite(trx: Kysely<Database>, key: number, change: ArchiveRewrite): Promise<void>;
}

/** Returns the conversation of `scope` in an account's archive as an EditableArchive. */
export function accountConversation(archive: ArchiveRepository, scope: EditScope): EditableArchive {
  return {
    findReferenced: (trx, ref) => archive.findReferenced(trx, scope.host, scope.username, scope.withBare, scope.sender, ref),
    rewrite: (trx, key, change) => archive.rewrite(trx, scope.host, scope.username, key, change),
  };
}

/**
 * Applies `edit` from `message` to its original in `target`, within `trx`. Returns false
 * when there is no such original from the same sender, or it is retracted already.
 */
export async function applyEdit(trx: Kysely<Database>, target: EditableArchive, edit: EditRequest, message: Element, now: number): Promise<boolean> {
  const original = await target.findReferenced(trx, edit.ref);
  if (!original || original.retractedAt !== null) return false;

  const parsed = parseStored(original.stanza);
  if (edit.kind === 'correction') {
    const corrected = correctedStanza(parsed, message);
    await target.rewrite(trx, original.key, { stanza: serializeStored(corrected), tokens: indexTokens(corrected), editedAt: now });
  } else {
    const dead = tombstone(parsed, message, now);
    await target.rewrite(trx, original.key, { stanza: serializeStored(dead), tokens: [], retractedAt: now });
  }
  return true;
}
