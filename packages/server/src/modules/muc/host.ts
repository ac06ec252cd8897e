import type { Logger } from 'pino';
import type { Element, JID } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { MucMessageEvent, MucSender } from '../../core/events.js';
import type { IqRequest } from '../../core/iq.js';
import type { MucRoomRepository } from '../../storage/index.js';

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
}
