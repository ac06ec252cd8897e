/**
 * Room archives. Every groupchat message of a room is stored under a stanza id the room
 * assigns (XEP-0359). The archive serves discussion history on join (XEP-0045 section
 * 7.2.15) and MAM queries addressed to the room (XEP-0313) with full-text search
 * (XEP-0431). Corrections (XEP-0308) and retractions (XEP-0424) rewrite the original in place.
 */
import type { Logger } from 'pino';
import { type Element, type JID, NS, StanzaError } from '@parley/xmpp';
import type { ServerContext } from '../../../core/context.js';
import type { IqRequest } from '../../../core/iq.js';
import { type NewMucArchiveEntry, roomKeyString } from '../../../storage/index.js';
import { archiveMetadata, queryArchive } from '../../mam/archive-source.js';
import { StanzaIdGenerator, addStanzaId, isServerEntity, originIdOf, removeForgedStanzaIds } from '../../mam/ids.js';
import { queryFormElement } from '../../mam/query.js';
import { indexTokens } from '../../mam/search.js';
import { parseStored, serializeStored } from '../../mam/stored.js';
import type { ModerationTarget } from '../host.js';
import { applyRoomEdit } from './edits.js';
import { type HistoryRequest, readHistory } from './history.js';
import { moderatedTombstone } from './moderation.js';
import { roomArchiveKind } from './policy.js';
import { roomSource } from './source.js';

export type { HistoryRequest } from './history.js';

/** The occupant who sent a message. */
export interface RoomSender {
  nick: string;
  /** Full JID of the occupant. */
  real: JID;
}

function originKey(room: JID, sender: string, originId: string): string {
  return `${room.bare().toString()} ${sender} ${originId}`;
}

/** Stores and serves the archives of the rooms of the MUC services on this server. */
export class RoomArchive {
  private readonly ids = new StanzaIdGenerator();
  /** Stanza ids of writes not committed yet, by `room sender origin-id`, so that a resend during the write is caught too. */
  private readonly pendingOrigins = new Map<string, string>();

  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
  ) {}

  /** Advances the stanza-id generator past stored ids; call once at module setup. */
  async init(): Promise<void> {
    const latest = await this.server.storage.mucArchive.latestStanzaId();
    if (latest !== undefined) this.ids.advancePast(latest);
  }

  /**
   * Removes stanza-ids claiming to be by the room, adds <stanza-id by='room@service'/>
   * (XEP-0359) and stores the message when it is archivable: a body, a subject, a
   * correction or retraction, or content with a store hint, and no no-store hint.
   * Resolves after the write is durable, with the stanza id, or undefined when the message
   * is not stored. The message is the one occupants get: from='room@service/nick',
   * type='groupchat'. Rejects when the write fails, for example when the room has no row
   * in `muc_rooms`.
   */
  append(room: JID, message: Element, sender: RoomSender): Promise<string | undefined> {
    // Any id by this server or its services is ours to assign, the room's included.
    removeForgedStanzaIds(message, (by) => isServerEntity(by, this.server.config.domain));
    const kind = roomArchiveKind(message);
    if (!kind) return Promise.resolve(undefined);

    // The id is issued and the write queued with no await in between, so archive order follows id order.
    const issued = this.ids.next();
    addStanzaId(message, room.toString(), issued.id);
    const snapshot = message.clone();
    // The stored copy has no recipient, so the archive does not reveal which occupant's copy it was.
    snapshot.setAttr('to', undefined);

    const entry: NewMucArchiveEntry = {
      service: room.domain,
      room: room.local,
      stanzaId: issued.id,
      createdAt: issued.stamp,
      kind,
      nick: sender.nick,
      sender: sender.real.bare().toString(),
      messageId: message.attr('id'),
      originId: originIdOf(message),
      stanza: serializeStored(snapshot),
      tokens: indexTokens(snapshot),
    };
    const { mucArchive } = this.server.storage;
    const pendingKey = entry.originId === undefined ? undefined : originKey(room, entry.sender, entry.originId);
    if (pendingKey) this.pendingOrigins.set(pendingKey, issued.id);
    const write = this.server.storage.batch.write(async (trx) => {
      const edited = await applyRoomEdit(trx, mucArchive, { service: entry.service, room: entry.room }, entry.sender, snapshot, entry.createdAt);
      // The original now carries the corrected text; a retraction's fallback text is not worth finding.
      await mucArchive.append(trx, edited || snapshot.getChild('retract', NS.RETRACT) ? { ...entry, tokens: [] } : entry);
    });
    return write
      .finally(() => {
        if (pendingKey) this.pendingOrigins.delete(pendingKey);
      })
      .then(() => issued.id);
  }

  /**
   * Returns the stanza id of the message `sender` sent to the room with this origin-id,
   * whether committed or still being written. The pending writes are checked first: a
   * write that commits while the query runs is found by the query.
   */
  async duplicateOf(room: JID, sender: JID, originId: string): Promise<string | undefined> {
    const bare = sender.bare().toString();
    const pending = this.pendingOrigins.get(originKey(room, bare, originId));
    if (pending !== undefined) return pending;
    return this.server.storage.mucArchive.findByOrigin({ service: room.domain, room: room.local }, bare, originId);
  }

  /**
   * Replaces the message `target` names with a moderation tombstone (XEP-0425) and archives
   * `announcement`, the room's notice of it, in the same transaction. Resolves with the
   * announcement's stanza id, which it also carries, or undefined when the message was
   * retracted already. Rejects with item-not-found when the archive has no such message.
   */
  async moderate(room: JID, target: ModerationTarget, announcement: Element): Promise<string | undefined> {
    const key = { service: room.domain, room: room.local };
    const issued = this.ids.next();
    addStanzaId(announcement, room.toString(), issued.id);
    const snapshot = announcement.clone();
    snapshot.setAttr('to', undefined);
    const entry: NewMucArchiveEntry = { ...key, stanzaId: issued.id, createdAt: issued.stamp, kind: 'message', nick: '', sender: room.bare().toString(), messageId: announcement.attr('id'), stanza: serializeStored(snapshot), tokens: [] };

    const { mucArchive } = this.server.storage;
    const moderated = await this.server.storage.batch.write(async (trx) => {
      const original = await mucArchive.findByStanzaId(trx, key, target.stanzaId);
      if (!original || original.kind !== 'message') throw new StanzaError('item-not-found', 'The room has no message with this stanza id.');
      if (original.retractedAt !== null) return false;
      const tombstone = moderatedTombstone(parseStored(original.stanza), target, issued.stamp);
      await mucArchive.rewrite(trx, key, original.key, { stanza: serializeStored(tombstone), tokens: [], retractedAt: issued.stamp });
      await mucArchive.append(trx, entry);
      return true;
    });
    return moderated ? issued.id : undefined;
  }

  /** Returns the discussion history (XEP-0045 section 7.2.15) for a joining occupant, oldest first, each with <delay from='room@service' stamp=.../>. */
  async history(room: JID, request: HistoryRequest, defaultMax: number): Promise<Element[]> {
    await this.server.storage.batch.drained();
    return readHistory(this.server.storage, room, request, { defaultMax, max: this.server.config.muc.history_max }, Date.now(), this.log);
  }

  /** Handles MAM (XEP-0313) IQs addressed to the room: query set, query get (form), metadata get. The caller has checked access. */
  async handleIq(request: IqRequest, room: JID, options: { realJids: boolean }): Promise<Element | undefined> {
    const { payload } = request;
    const type = request.stanza.attr('type');
    if (payload.ns !== NS.MAM) throw new StanzaError('service-unavailable', `The room archive does not serve ${payload.ns}.`);

    const source = roomSource(this.server.storage, room.bare(), options.realJids);
    if (payload.name === 'query' && type === 'set') return queryArchive(this.server, this.log, request, source);
    if (payload.name === 'query' && type === 'get') return queryFormElement();
    if (payload.name === 'metadata' && type === 'get') return archiveMetadata(this.server, source);
    throw new StanzaError('feature-not-implemented', `Unsupported MAM request <${payload.name}/> of type ${type ?? 'none'} to a room; send a query or a metadata get.`);
  }

  /** Returns the newest archived message of each room: stanza id and time (ms), keyed by the room's bare JID. */
  async lastActivity(rooms: JID[]): Promise<Map<string, { stanzaId: string; at: number }>> {
    await this.server.storage.batch.drained();
    const latest = await this.server.storage.mucArchive.latestByRoom(rooms.map((room) => ({ service: room.domain, room: room.local })));
    const activity = new Map<string, { stanzaId: string; at: number }>();
    for (const room of rooms) {
      const message = latest.get(roomKeyString({ service: room.domain, room: room.local }));
      if (message) activity.set(room.bare().toString(), { stanzaId: message.stanzaId, at: message.createdAt });
    }
    return activity;
  }
}
