import type { Element, JID } from '@parley/xmpp';

/** XEP-0045 section 5.2, from highest to lowest. */
export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

/** XEP-0045 section 5.1, from highest to lowest. */
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
export const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

/** The senders allowed to send private messages (muc#roomconfig_allowpm). */
export type PrivateMessagePolicy = 'anyone' | 'participants' | 'moderators' | 'none';

/** The settings of the muc#roomconfig form (XEP-0045 section 15.5.3). */
export interface RoomConfig {
  name: string;
  description: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** Empty when the room has no password. */
  password: string;
  /** 0 means the service's limit alone. */
  maxUsers: number;
  /** True when every occupant may read real JIDs (non-anonymous), false when only moderators may (semi-anonymous). */
  whoisAnyone: boolean;
  changeSubject: boolean;
  allowInvites: boolean;
  allowPrivateMessages: PrivateMessagePolicy;
}

/** An affiliation held by a bare JID, with the nick it reserves (XEP-0045 section 7.12). */
export interface AffiliationEntry {
  affiliation: Affiliation;
  nick?: string;
  reason?: string;
}

/** One occupant: a nick held by one bare JID, with one or more of its sessions (XEP-0045 section 7.2.8). */
export interface Occupant {
  nick: string;
  /** The bare JID of the account behind the nick. */
  bare: JID;
  /** The sessions that joined under this nick, by full JID string. */
  sessions: Map<string, JID>;
  role: Role;
  /** The occupant's latest presence as sent to the room, without addressing. */
  presence: Element;
}
