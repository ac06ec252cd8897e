import type { Logger } from 'pino';
import type { Element, JID } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { MucMessageEvent, MucSender } from '../../core/events.js';
import type { IqRequest } from '../../core/iq.js';
import type { MucRoomRepository } from '../../storage/index.js';
import type { Room } from './room.js';

/** The occupant behind an archived message (the shared room archive API). */
export type RoomSender = MucSender;

export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  /** Milliseconds since the epoch. */
  since?: number;
}

/** The part of the room archive (modules/muc/archive) that rooms use. */
export interface RoomArchiveApi {
  append(room: JID, message: Element, sender: RoomSender): Promise<string | undefined>;
  history(room: JID, request: HistoryRequest, defaultMax: number): Promise<Element[]>;
  handleIq(request: IqRequest, room: JID, options: { realJids: boolean }): Promise<Element | undefined>;
  lastActivity(rooms: JID[]): Promise<Map<string, { stanzaId: string; at: number }>>;
  /** Returns the stanza id of the message `sender` (a real bare JID) sent to the room with this origin-id, archived or being written. */
  duplicateOf(room: JID, sender: JID, originId: string): Promise<string | undefined>;
  /**
   * Replaces an archived message with a moderation tombstone and archives `announcement`
   * (which gets its stanza id). Resolves with that id, or undefined when the message was
   * retracted already. Rejects with item-not-found when the room has no such message.
   */
  moderate(room: JID, target: ModerationTarget, announcement: Element): Promise<string | undefined>;
}

/** A message a moderator retracts (XEP-0425). */
export interface ModerationTarget {
  /** The stanza id the room gave the message. */
  stanzaId: string;
  /** Occupant JID of the moderator. */
  by: string;
  reason?: string;
}

export type { MucMessageEvent };

/**
 * Everything a room reaches outside itself. A room talks to the rest of the server only
 * through this, so that rooms can later live on another node of a cluster.
 */
export interface RoomHost {
  readonly service: string;
  readonly limits: Config['muc'];
  readonly archive: RoomArchiveApi;
  readonly store: MucRoomRepository;
  readonly log: Logger;
  /** Routes a stanza from its 'from' to its 'to'. */
  send(stanza: Element): void;
  /** Fires the 'muc/message' event. */
  messageSent(event: MucMessageEvent): Promise<void>;
  /** Checks whether `bare` is an account of this server. */
  accountExists(bare: JID): Promise<boolean>;
  /** Checks whether `bare` is a service admin of the [muc] config, who owns every room. */
  isServiceAdmin(bare: JID): boolean;
  /** Forgets a room that was destroyed or emptied for good. */
  roomDeleted(name: string): void;
  /** Called when a room's queue runs empty; the host may unload the room from memory. */
  roomIdle(room: Room): void;
  /** Called after a room task changed the occupants; in a cluster the host keeps a copy for the node that may take the room over. */
  saveOccupants(room: Room): Promise<void>;
  /** Checks whether `jid` names this server, one of its services or an entity of a service (a room): ids and delays by those only the server may add. */
  isOwnEntity(jid: string): boolean;
}
