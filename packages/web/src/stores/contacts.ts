import { defineStore } from 'pinia';
import type { XElement } from '../xmpp/index.js';
import { bare } from './protocol/jid.js';
import { buildPresence, parsePresence, subscription, type PresenceInfo, type Show } from './protocol/presence.js';
import { removeRosterItem, setRosterItem } from './protocol/roster.js';
import { fetchVCard } from './protocol/vcard.js';
import type { Contact } from '../data/index.js';
import { services } from './services.js';

/** A contact's presence, summed over its online resources: the best show wins. */
export interface ContactPresence {
  show: Show | 'unavailable';
  status?: string;
}

const SHOW_RANK: Record<ContactPresence['show'], number> = { available: 4, away: 2, xa: 1, dnd: 3, unavailable: 0 };
/** Resources remembered per contact; a contact with more is unusual and the oldest go. */
const MAX_RESOURCES = 20;

/** Whether the account already lets `contact` see its presence (RFC 6121 subscription states). */
function sharesPresence(contact: Contact | undefined): boolean {
  return contact?.subscription === 'from' || contact?.subscription === 'both';
}

/** Whether the account asked for `contact`'s presence, so a request from it is accepted without prompting the user. */
function askedFor(contact: Contact | undefined): boolean {
  return contact?.subscription === 'to' || contact?.subscription === 'both';
}

/** Sums the presences of one contact's resources (highest priority, then the most available show). */
export function summarize(resources: Record<string, PresenceInfo>): ContactPresence {
  const best = Object.values(resources).sort((a, b) => b.priority - a.priority || SHOW_RANK[b.show] - SHOW_RANK[a.show])[0];
  return best ? { show: best.show, status: best.status } : { show: 'unavailable' };
}

/** Contacts added in this tab; a server without pre-approval still delivers their requests. */
const addedHere = new Set<string>();
/** Unnamed roster items named from their vCards per session; the rest wait for the next session. */
const MAX_NAMED_PER_START = 20;

/** The name `jid` gives itself in its vCard (FN, else NICKNAME), if it can be read. */
async function vCardName(jid: string): Promise<string | undefined> {
  const profile = await fetchVCard(services().client, jid).catch(() => undefined);
  return profile?.fullName || profile?.nickname || undefined;
}

export const useContacts = defineStore('contacts', {
  state: () => ({
    /** The roster as the data layer stores it (the data layer also applies roster pushes). */
    roster: [] as Contact[],
    /** Online resources by bare JID. */
    resources: {} as Record<string, Record<string, PresenceInfo>>,
    /** Bare JIDs that asked to see the account's presence. */
    requests: [] as string[],
    ownShow: 'available' as Show,
    ownStatus: '',
    loaded: false,
  }),
  getters: {
    presenceOf: (state) => (jid: string): ContactPresence => summarize(state.resources[bare(jid)] ?? {}),
    nameOf: (state) => (jid: string): string => state.roster.find((item) => item.jid === bare(jid))?.name ?? jid.split('@')[0] ?? jid,
    sorted: (state) => [...state.roster].sort((a, b) => (a.name ?? a.jid).localeCompare(b.name ?? b.jid)),
    /** Requests from addresses that are not contacts; a contact's request shows in its own row. */
    strangerRequests: (state) => state.requests.filter((jid) => !state.roster.some((item) => item.jid === jid)),
  },
  actions: {
    attach(): () => void {
      const { client } = services();
      const stops = [
        client.on('stanza', (stanza) => this.onStanza(stanza)),
        services().chat.subscribe((change) => {
          if (change.type === 'contacts') void this.readRoster();
        }),
        client.on('online', ({ resumed }) => {
          if (!resumed) void this.start();
        }),
      ];
      void this.start();
      return () => stops.forEach((stop) => stop());
    },

    /** Fetches the roster, then sends the initial presence (RFC 6121 section 4.2 orders them so). */
    async start(): Promise<void> {
      const { client, chat } = services();
      this.resources = {};
      await this.readRoster();
      try {
        await chat.syncRoster();
      } catch (err) {
        console.error('fetching the roster failed', err);
      }
      this.loaded = true;
      client.send(buildPresence(this.ownShow, this.ownStatus));
      void this.nameUnnamed();
    },

    /** Gives roster items without a name the name from their vCard, a few per session. */
    async nameUnnamed(): Promise<void> {
      const unnamed = this.roster.filter((item) => !item.name).slice(0, MAX_NAMED_PER_START);
      for (const item of unnamed) await this.nameContact(item.jid);
    },

    /** Stores the contact's vCard name as its roster name, unless it has one. */
    async nameContact(jid: string): Promise<void> {
      if (this.roster.find((item) => item.jid === jid)?.name) return;
      const name = await vCardName(jid);
      const item = this.roster.find((entry) => entry.jid === jid);
      if (!name || item?.name) return;
      await setRosterItem(services().client, jid, name, item?.groups ?? []).catch((err: unknown) => console.error('naming the contact failed', jid, err));
    },

    /** Reads the stored roster; rosters are small (hundreds), so it is read whole. */
    async readRoster(): Promise<void> {
      this.roster = await services().db.contacts.toArray();
      // A request accepted or declined on another device, or pre-approved, is no longer pending.
      this.requests = this.requests.filter((jid) => !sharesPresence(this.roster.find((item) => item.jid === jid)));
    },

    onStanza(stanza: XElement): void {
      if (stanza.name !== 'presence') return;
      const presence = parsePresence(stanza);
      if (presence.muc) return;
      if (presence.type === 'subscribe') return this.onRequest(presence.jid);
      if (presence.type === 'unsubscribe') {
        this.requests = this.requests.filter((jid) => jid !== presence.jid);
        return;
      }
      if (presence.type !== 'available' && presence.type !== 'unavailable') return;

      const key = presence.resource ?? '';
      const current = { ...(this.resources[presence.jid] ?? {}) };
      if (presence.type === 'unavailable') delete current[key];
      else current[key] = presence;
      const keys = Object.keys(current);
      if (keys.length > MAX_RESOURCES) delete current[keys[0]!];
      this.resources[presence.jid] = current;
    },

    /** Handles a subscription request: accepts it at once when the user requested this contact's presence first, otherwise lists it. */
    onRequest(jid: string): void {
      const contact = this.roster.find((item) => item.jid === jid);
      if (sharesPresence(contact)) return;
      if (askedFor(contact) || addedHere.has(jid)) {
        services().client.send(subscription(jid, 'subscribed'));
        return;
      }
      if (!this.requests.includes(jid)) this.requests.push(jid);
    },

    setOwnPresence(show: Show, status: string): void {
      this.ownShow = show;
      this.ownStatus = status;
      services().client.send(buildPresence(show, status));
    },

    /**
     * Adds a contact, asks for its presence and pre-approves its request for ours (RFC 6121
     * section 3.4), so that the contact's one acceptance makes the subscription mutual.
     */
    async add(jid: string, name?: string): Promise<void> {
      const { client } = services();
      const contact = bare(jid);
      await setRosterItem(client, contact, name || (await vCardName(contact)));
      addedHere.add(contact);
      client.send(subscription(contact, 'subscribe'));
      if (this.requests.includes(contact)) this.answer(contact, true);
      else if (!sharesPresence(this.roster.find((item) => item.jid === contact))) client.send(subscription(contact, 'subscribed'));
    },

    async remove(jid: string): Promise<void> {
      await removeRosterItem(services().client, jid);
    },

    /** Accepts or declines a subscription request. Accepting also requests a subscription in the other direction. */
    answer(jid: string, accept: boolean): void {
      const { client } = services();
      this.requests = this.requests.filter((request) => request !== jid);
      client.send(subscription(jid, accept ? 'subscribed' : 'unsubscribed'));
      if (accept && !this.roster.some((item) => item.jid === jid && (item.subscription === 'to' || item.subscription === 'both'))) {
        client.send(subscription(jid, 'subscribe'));
      }
      if (accept) void this.nameContact(jid);
    },
  },
});
