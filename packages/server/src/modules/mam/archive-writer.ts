/**
 * Writes messages into the archives (XEP-0313) as they pass the server: a client's message
 * into the sender's archive and, for a local recipient, into the recipient's, each under its
 * own stanza id (XEP-0359). The recipient's id goes on the stanza before it is routed.
 */
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { type Element, JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent, StanzaEvent } from '../../core/events.js';
import { type Database, type NewArchiveEntry, accountLock } from '../../storage/index.js';
import { accountConversation, applyEdit, editOf } from './edits.js';
import { type StanzaIdGenerator, addStanzaId, isServerEntity, originIdOf, recordArchiveId, removeForgedStanzaIds } from './ids.js';
import { isArchivable } from './policy.js';
import { type PrefsStore, prefsAllow } from './prefs.js';
import { indexTokens } from './search.js';
import { serializeStored } from './stored.js';

/** One archive a message goes into. */
interface ArchiveTarget {
  /** Owner of the archive. */
  owner: JID;
  /** The other party as the stanza names it: 'to' of an outgoing message, 'from' of an incoming one. */
  peer: JID;
}

function originKey(sender: JID, originId: string): string {
  return `${sender.toString()} ${originId}`;
}

/** Archives messages and drops duplicates a client re-sends with the same origin-id. */
export class ArchiveWriter {
  /** Origin-ids of writes not committed yet, as `sender origin-id`, so a quick re-send is caught too. */
  private readonly pendingOrigins = new Set<string>();

  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
    private readonly ids: StanzaIdGenerator,
    private readonly prefs: PrefsStore,
  ) {}

  /**
   * Handles `message/outbound`. Returns true (claiming the message, so it is not routed) only
   * for a duplicate: the sender already sent a message with this origin-id.
   */
  async outbound(event: OutboundEvent): Promise<boolean> {
    const { stanza, session } = event;
    removeForgedStanzaIds(stanza, (by) => isServerEntity(by, this.server.config.domain));
    if (!isArchivable(stanza) || !session.jid) return false;

    const sender = session.jid;
    const to = event.to ?? sender.bare();
    const targets = await this.outboundTargets(sender, to);
    const originId = originIdOf(stanza);
    if (originId !== undefined) {
      const archived = await this.isArchivedOrigin(sender.bare(), originId, targets);
      // Checked after the last await, so that no other message registers this origin-id before store() below.
      if (archived || this.pendingOrigins.has(originKey(sender.bare(), originId))) {
        session.log.debug({ originId }, 'duplicate message dropped');
        return true;
      }
    }
    if (targets.length === 0) return false;

    const recipient = to.domain === this.server.config.domain && to.local !== '' ? to.bare() : undefined;
    session.trackWrite(this.store(stanza, sender.bare(), targets, recipient));
    return false;
  }

  /**
   * Handles `message/bare` and `message/full` for messages the server or another service
   * routes to a local account; a client's messages were archived on `message/outbound`.
   */
  async inbound(event: StanzaEvent): Promise<boolean> {
    if (event.origin) return false;
    const owner = event.to.bare();
    const { stanza } = event;
    removeForgedStanzaIds(stanza, (by) => by === owner.toString());
    if (!isArchivable(stanza) || !(await this.allows(owner, event.from))) return false;
    this.store(stanza, event.from.bare(), [{ owner, peer: event.from }], owner).catch((err: unknown) =>
      this.log.error({ err, archive: owner.toString() }, 'archiving an incoming message failed'),
    );
    return false;
  }

  /** Lists the archives an outgoing message goes into: the sender's and a local recipient's, each if its preferences allow. */
  private async outboundTargets(sender: JID, to: JID): Promise<ArchiveTarget[]> {
    const targets: ArchiveTarget[] = [];
    const own = sender.bare();
    if (await this.allows(own, to)) targets.push({ owner: own, peer: to });

    const recipient = to.bare();
    if (recipient.equals(own) || to.domain !== this.server.config.domain || to.local === '') return targets;
    if (!(await this.server.router.accountExists(recipient))) return targets;
    if (await this.allows(recipient, sender)) targets.push({ owner: recipient, peer: sender });
    return targets;
  }

  /**
   * Queues the archive writes and stamps the recipient's id on the stanza. Ids are issued and
   * the write queued without an await in between, so archive order follows id order.
   */
  private store(stanza: Element, sender: JID, targets: ArchiveTarget[], recipient: JID | undefined): Promise<void> {
    // Later handlers may change the live stanza before the batch runs; the write uses this copy.
    const snapshot = stanza.clone();
    const serialized = serializeStored(snapshot);
    const tokens = indexTokens(snapshot);
    const entries = targets.map((target) => this.entry(stanza, sender, target, serialized, tokens));
    for (const [i, target] of targets.entries()) {
      const { stanzaId } = entries[i]!;
      recordArchiveId(stanza, target.owner.toString(), stanzaId);
      if (recipient?.equals(target.owner)) addStanzaId(stanza, target.owner.toString(), stanzaId);
    }

    const originId = originIdOf(stanza);
    const pendingKey = originId === undefined ? undefined : originKey(sender, originId);
    if (pendingKey) this.pendingOrigins.add(pendingKey);
    const locks = entries.map((entry) => accountLock(entry.host, entry.username));
    const write = this.server.storage.batch.write(async (trx) => {
      for (const entry of entries) await this.writeEntry(trx, snapshot, entry);
    }, { locks });
    return write.finally(() => {
      if (pendingKey) this.pendingOrigins.delete(pendingKey);
    });
  }

  private entry(stanza: Element, sender: JID, target: ArchiveTarget, serialized: string, tokens: string[]): NewArchiveEntry {
    const issued = this.ids.next();
    return {
      host: target.owner.domain,
      username: target.owner.local,
      stanzaId: issued.id,
      createdAt: issued.stamp,
      withBare: target.peer.bare().toString(),
      withResource: target.peer.resource,
      sender: sender.toString(),
      messageId: stanza.attr('id'),
      originId: originIdOf(stanza),
      stanza: serialized,
      tokens,
    };
  }

  /** Applies a correction or retraction to its original, then appends the message itself. */
  private async writeEntry(trx: Transaction<Database>, stanza: Element, entry: NewArchiveEntry): Promise<void> {
    const { archive } = this.server.storage;
    const edit = editOf(stanza);
    let { tokens } = entry;
    if (edit) {
      const scope = { host: entry.host, username: entry.username, withBare: entry.withBare, sender: entry.sender };
      const applied = await applyEdit(trx, accountConversation(archive, scope), edit, stanza, entry.createdAt);
      // The original now carries the corrected text; a retraction's fallback text is not worth finding.
      if (applied || edit.kind === 'retraction') tokens = [];
    }
    await archive.append(trx, { ...entry, tokens });
  }

  /** Returns true when one of the archives contains a message from `sender` with this origin-id. */
  private async isArchivedOrigin(sender: JID, originId: string, targets: ArchiveTarget[]): Promise<boolean> {
    for (const { owner } of targets) {
      if (await this.server.storage.archive.hasOriginId(owner.domain, owner.local, sender.toString(), originId)) return true;
    }
    return false;
  }

  /** Applies the preferences of `owner`'s archive to a message to or from `target`. */
  private async allows(owner: JID, target: JID): Promise<boolean> {
    const { roster } = this.server.storage;
    const prefs = await this.prefs.get(owner);
    return prefsAllow(prefs, target, async () => {
      const item = await roster.get(owner.domain, owner.local, target.bare().toString());
      return item !== null && !item.hidden;
    });
  }

}
