import { defineStore } from 'pinia';
import type { XElement } from '../xmpp/index.js';
import { fetchBookmarks, publishBookmark, retractBookmark, type Bookmark } from './protocol/bookmarks.js';
import { bare, localPart, resource } from './protocol/jid.js';
import { configureGroup, defaultMucService, directInvite, fetchMembers, fetchRoomName, joinPresence, leavePresence, parseInvitation, setAffiliation, statusCodes, type Invitation, type RoomMember } from './protocol/muc.js';
import { parsePresence } from './protocol/presence.js';
import { NS } from './protocol/ns.js';
import { services } from './services.js';

/** Time allowed for the room to reflect the account's join presence. */
const JOIN_TIMEOUT_MS = 15_000;
/** Maximum number of pending invitations; the oldest are dropped first. */
const MAX_INVITATIONS = 50;

export interface JoinedRoom extends Bookmark {
  joined: boolean;
  /** Occupant nicks currently in the room. */
  occupants: string[];
  /** Real bare JIDs of the occupants, where the room shows them. */
  occupantJids: string[];
}

/** Builds a room's local part from a group name: lowercase letters, digits, dots and dashes, plus a random suffix. */
export function roomLocalPart(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const suffix = Math.random().toString(36).slice(2, 8);
  return base ? `${base}-${suffix}` : `group-${suffix}`;
}

export const useRooms = defineStore('rooms', {
  state: () => ({
    rooms: {} as Record<string, JoinedRoom>,
    members: {} as Record<string, RoomMember[]>,
    invitations: [] as Invitation[],
  }),
  getters: {
    list: (state) => Object.values(state.rooms).sort((a, b) => (a.name ?? a.room).localeCompare(b.name ?? b.room)),
    isRoom: (state) => (jid: string) => bare(jid) in state.rooms,
  },
  actions: {
    attach(): () => void {
      const { client } = services();
      const stops = [
        client.on('stanza', (stanza) => this.onStanza(stanza)),
        client.on('online', ({ resumed }) => {
          if (!resumed) void this.start();
        }),
      ];
      void this.start();
      return () => stops.forEach((stop) => stop());
    },

    /** Joins every bookmarked room marked autojoin. */
    async start(): Promise<void> {
      const bookmarks = await fetchBookmarks(services().client);
      for (const bookmark of bookmarks) {
        this.rooms[bookmark.room] = { ...bookmark, joined: false, occupants: [], occupantJids: [] };
        if (bookmark.name) this.rememberName(bookmark.room, bookmark.name);
        if (bookmark.autojoin) this.join(bookmark.room);
      }
    },

    /** Stores the group's name in IndexedDB, where the chat list finds it offline. */
    rememberName(room: string, name: string): void {
      void services()
        .chat.setRoomName(room, name)
        .catch((err: unknown) => console.error('storing the group name failed', room, err));
    },

    ownNick(room: string): string {
      return this.rooms[room]?.nick ?? localPart(services().client.bareJid);
    },

    /** Joins with the account's nick. The nick is stored first, so the data layer recognises the account's own room messages. */
    join(room: string): void {
      const { client, chat } = services();
      const nick = this.ownNick(room);
      void chat.setRoomNick(room, nick).catch((err: unknown) => console.error('recording the room nick failed', room, err));
      client.send(joinPresence(room, nick));
    },

    /** Creates a members-only persistent group, makes the invitees members and invites them. */
    async create(name: string, invitees: string[]): Promise<string> {
      const { client } = services();
      const room = `${roomLocalPart(name)}@${defaultMucService(client.bareJid)}`;
      const nick = localPart(client.bareJid);
      this.rooms[room] = { room, name, nick, autojoin: true, joined: false, occupants: [], occupantJids: [] };
      this.rememberName(room, name);

      const joined = this.waitForJoin(room);
      this.join(room);
      await joined;
      await configureGroup(client, room, name);
      await publishBookmark(client, { room, name, nick, autojoin: true });
      for (const invitee of invitees) await this.invite(room, invitee);
      return room;
    },

    async invite(room: string, jid: string): Promise<void> {
      const { client } = services();
      await setAffiliation(client, room, jid, 'member');
      client.send(directInvite(room, jid));
      this.members[room] = await fetchMembers(client, room);
    },

    async loadMembers(room: string): Promise<RoomMember[]> {
      const members = await fetchMembers(services().client, room);
      this.members[room] = members;
      return members;
    },

    /** Leaves the group for good: gives up membership (owners keep theirs), leaves, and drops the bookmark. */
    async leave(room: string): Promise<void> {
      const { client } = services();
      await setAffiliation(client, room, client.bareJid, 'none').catch(() => undefined);
      client.send(leavePresence(room, this.ownNick(room)));
      await retractBookmark(client, room).catch((err: unknown) => console.error('removing the bookmark failed', err));
      delete this.rooms[room];
      delete this.members[room];
    },

    /** Joins the invited room and bookmarks it under the room's own name. */
    async accept(invitation: Invitation): Promise<void> {
      const { client } = services();
      this.invitations = this.invitations.filter((item) => item.room !== invitation.room);
      const nick = localPart(client.bareJid);
      const name = await fetchRoomName(client, invitation.room);
      this.rooms[invitation.room] = { room: invitation.room, name, nick, autojoin: true, joined: false, occupants: [], occupantJids: [] };
      if (name) this.rememberName(invitation.room, name);
      this.join(invitation.room);
      await publishBookmark(client, { room: invitation.room, name, nick, autojoin: true });
    },

    /** Shows the invited room under its name (disco#info) instead of its address. */
    async nameInvitation(room: string): Promise<void> {
      const name = await fetchRoomName(services().client, room);
      if (name) this.invitations = this.invitations.map((item) => (item.room === room ? { ...item, name } : item));
    },

    decline(invitation: Invitation): void {
      this.invitations = this.invitations.filter((item) => item.room !== invitation.room);
    },

    waitForJoin(room: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`joining ${room} timed out`));
        }, JOIN_TIMEOUT_MS);
        const stop = services().client.on('stanza', (stanza) => {
          if (stanza.name !== 'presence' || bare(stanza.attr('from') ?? '') !== room) return;
          const error = stanza.attr('type') === 'error';
          if (!error && !statusCodes(parsePresence(stanza).muc).includes(110)) return;
          clearTimeout(timer);
          stop();
          if (error) reject(new Error(`joining ${room} failed`));
          else resolve();
        });
      });
    },

    onStanza(stanza: XElement): void {
      const invitation = parseInvitation(stanza);
      if (invitation && !(invitation.room in this.rooms) && !this.invitations.some((item) => item.room === invitation.room)) {
        this.invitations = [...this.invitations, invitation].slice(-MAX_INVITATIONS);
        void this.nameInvitation(invitation.room);
        return;
      }
      if (stanza.name !== 'presence') return;
      const presence = parsePresence(stanza);
      const room = this.rooms[presence.jid];
      const nick = resource(stanza.attr('from') ?? '');
      if (!room || !presence.muc || nick === undefined) return;

      const others = room.occupants.filter((occupant) => occupant !== nick);
      room.occupants = presence.type === 'unavailable' ? others : [...others, nick];
      const realJid = presence.muc.getChild('item', NS.MUC_USER)?.attr('jid');
      if (realJid) {
        const otherJids = room.occupantJids.filter((jid) => jid !== bare(realJid));
        room.occupantJids = presence.type === 'unavailable' ? otherJids : [...otherJids, bare(realJid)];
      }
      if (statusCodes(presence.muc).includes(110)) room.joined = presence.type !== 'unavailable';
    },
  },
});
