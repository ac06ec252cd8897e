import type { Element, JID } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { RosterItem } from '../storage/index.js';

/**
 * A stanza on its way to a local entity. `from` is the stamped sender; `origin` is the
 * session it came from, absent when the server itself generated it.
 */
export interface StanzaEvent {
  stanza: Element;
  from: JID;
  to: JID;
  origin?: ClientSession;
  /** Registers a durable write made for a stanza that came from another cluster node, whose sender's acknowledgement waits for it. */
  track?: (write: Promise<unknown>) => void;
}

/** A stanza a client sent that its own server handles before any routing. */
export interface OutboundEvent {
  stanza: Element;
  session: ClientSession;
  to: JID | undefined;
}

/**
 * A message the router handed to a local account: `delivered` lists the sessions that got it
 * directly, and is empty when offline storage took it.
 */
export interface RoutedMessageEvent extends StanzaEvent {
  delivered: ClientSession[];
  /** Full JIDs of resources on other cluster nodes that the message went to. */
  deliveredRemote?: string[];
}

export interface SessionEvent {
  session: ClientSession;
}

export interface SessionClosedEvent {
  session: ClientSession;
  reason: string;
}

/** A roster item that its user deleted; `user` is the bare JID of the roster's owner. */
export interface RosterRemovedEvent {
  user: JID;
  item: RosterItem;
}

/** Fragments a user stored in private XML storage (XEP-0049); `user` is the account's bare JID. */
export interface PrivateStoredEvent {
  user: JID;
  fragments: Element[];
}

export interface AccountEvent {
  host: string;
  username: string;
}

/** Fields of an account's profile that an update changed, by their API names. */
export interface AccountUpdatedEvent extends AccountEvent {
  changed: string[];
}

/** An account that a user registered themselves, in-band (XEP-0077) or through the HTTP registration endpoint. */
export interface AccountRegisteredEvent extends AccountEvent {
  via: 'xmpp' | 'http';
  /** Whether an invitation token was used. */
  invited: boolean;
}

/**
 * A department or group that changed. `changed` names what: 'created', 'name', 'parent',
 * 'sharedRoster', 'members' or 'deleted'.
 */
export interface OrgGroupChangedEvent {
  host: string;
  id: string;
  changed: string[];
}

/** Where an avatar change came from: the account profile (admin API, import), a vCard set, or a PEP publish. */
export type AvatarSource = 'profile' | 'vcard' | 'pep';

/** An account's avatar image, or null when it was removed, after one of its copies changed. */
export interface AvatarChangedEvent extends AccountEvent {
  avatar: { type: string; sha1: string; data: Buffer } | null;
  source: AvatarSource;
}

/** The occupant behind a groupchat message: its nick and the full JID of its session. */
export interface MucSender {
  nick: string;
  real: JID;
}

/** A groupchat message a room archived and sent to its occupants (XEP-0045). */
export interface MucMessageEvent {
  /** The room's bare JID. */
  room: JID;
  /** The room archive's stanza id; undefined when the message was not archived. */
  stanzaId: string | undefined;
  /** The message as occupants got it, without a 'to'. */
  message: Element;
  sender: MucSender;
  /** Bare JIDs with affiliation member, admin or owner. */
  members: JID[];
}

/** The reporter of a read position: a client's XEP-0490 publish, a chat marker, an own message, or an inbox request. */
export type ReadPositionSource = 'mds' | 'marker' | 'own-message' | 'inbox';

/**
 * A read position of one account in one conversation. Positions are stanza ids: for a 1:1
 * conversation the id in the reader's own archive, for a group the room's id.
 */
export interface ReadPositionEvent {
  /** Bare JID of the reader. */
  owner: JID;
  /** Bare JID of the contact or room. */
  conversation: JID;
  stanzaId: string;
  source: ReadPositionSource;
}

/** A read position that the inbox moved forward (it never moves back). */
export interface InboxReadEvent {
  owner: JID;
  conversation: JID;
  stanzaId: string;
}

/**
 * Every event of the server, by name. Routing events follow the grammar
 * `<kind>/<target>`: `bare` and `full` are local users, `host` the domain itself.
 */
export interface ServerEvents {
  'message/bare': StanzaEvent;
  'message/full': StanzaEvent;
  'message/host': StanzaEvent;
  'presence/bare': StanzaEvent;
  'presence/full': StanzaEvent;
  'presence/host': StanzaEvent;
  /** An IQ for a local user's resource, before it is delivered. */
  'iq/full': StanzaEvent;
  /** An IQ for a local user's bare JID from another entity, before the IQ dispatcher handles it. */
  'iq/bare': StanzaEvent;
  /** A message for a user with no session that should receive it; claimed by offline storage. */
  'message/offline': StanzaEvent;
  /** Presence a client sent, with or without a `to`, before routing. */
  'presence/outbound': OutboundEvent;
  /** A message a client sent, before routing; carbons and archiving hook here. */
  'message/outbound': OutboundEvent;
  /** An IQ a client sent to anything but its own account, before routing. */
  'iq/outbound': OutboundEvent;
  /**
   * A client's message after the router handled it, unless a 'message/outbound' handler
   * claimed it. The event is the object 'message/outbound' got. Sent carbons hook here.
   */
  'message/sent': OutboundEvent;
  /** A message to a local account that the router delivered or offline storage took, once per message. Received carbons hook here. */
  'message/routed': RoutedMessageEvent;
  /** A message delivered to one session. */
  'message/delivered': StanzaEvent & { session: ClientSession };
  /**
   * A stanza stored for the account while it was offline (a message, a subscription request),
   * about to be delivered to `session`. A handler that returns true drops it.
   */
  'stored/deliver': StanzaEvent & { session: ClientSession };
  'session/bound': SessionEvent;
  /** The session sent its first available presence. */
  'session/initial-presence': SessionEvent;
  'session/closed': SessionClosedEvent;
  /** The session lost its connection and waits for resumption (XEP-0198); `unacked` lists what the client never acknowledged. */
  'session/hibernated': SessionEvent & { unacked: Element[] };
  /** The session continues on a new connection after stream management resumption (XEP-0198). */
  'session/resumed': SessionEvent;
  /** The user removed a roster item (RFC 6121 2.5); the presence module cancels its subscriptions. */
  'roster/removed': RosterRemovedEvent;
  /** A user stored fragments in private XML storage; the PEP module mirrors bookmarks from it (XEP-0402 #compat). */
  'private/stored': PrivateStoredEvent;
  'account/created': AccountEvent;
  'account/deleted': AccountEvent;
  /** An account's profile, department, groups or avatar changed (admin API, import or vCard). */
  'account/updated': AccountUpdatedEvent;
  'account/disabled': AccountEvent;
  'account/enabled': AccountEvent;
  /**
   * A department or group changed after the storage write committed. The directory
   * reindexes renamed departments; the shared roster updates its members' rosters.
   */
  'org/group-changed': OrgGroupChangedEvent;
  /**
   * An account's avatar changed in one of its copies (profile, vCard PHOTO, PEP avatar
   * nodes); the modules that keep the other copies bring them in step (XEP-0398).
   */
  'avatar/changed': AvatarChangedEvent;
  /** Fired after 'account/created' when the account came from self-registration. */
  'account/registered': AccountRegisteredEvent;
  /** A groupchat message after a room archived it and sent it to every occupant. */
  'muc/message': MucMessageEvent;
  /** A user's client or the server saw that `owner` has read `conversation` up to `stanzaId`. */
  'read/position': ReadPositionEvent;
  /** The inbox moved `owner`'s read position forward; the displayed-position sync (XEP-0490) hooks it. */
  'inbox/read': InboxReadEvent;
  /** The PEP module sent the last items (maybe none) that a session's available presence asked for with its caps. */
  'pep/last-items-sent': SessionEvent;
}
