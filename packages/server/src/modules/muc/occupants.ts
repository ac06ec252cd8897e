import type { Element, JID } from '@parley/xmpp';
import type { Occupant, Role } from './types.js';

/** The occupants of one room, by nick and by the full JID of each of their sessions. */
export class OccupantList {
  private readonly byNick = new Map<string, Occupant>();
  private readonly bySession = new Map<string, Occupant>();
  /** Counts changes to the list and to its occupants' roles and presence, so that a saved copy can be checked for staleness. */
  version = 0;

  get size(): number {
    return this.byNick.size;
  }

  all(): Occupant[] {
    return [...this.byNick.values()];
  }

  byNickname(nick: string): Occupant | undefined {
    return this.byNick.get(nick);
  }

  bySessionJid(session: JID): Occupant | undefined {
    return this.bySession.get(session.toString());
  }

  /** Returns the occupants whose account is `bare`. */
  ofAccount(bare: JID): Occupant[] {
    return this.all().filter((occupant) => occupant.bare.equals(bare));
  }

  /** Adds a new occupant with its first session. */
  add(nick: string, session: JID, role: Role, presence: Element): Occupant {
    this.version++;
    const occupant: Occupant = { nick, bare: session.bare(), sessions: new Map([[session.toString(), session]]), role, presence };
    this.byNick.set(nick, occupant);
    this.bySession.set(session.toString(), occupant);
    return occupant;
  }

  /** Adds a session of the same account to an existing occupant (XEP-0045 section 7.2.8). */
  addSession(occupant: Occupant, session: JID): void {
    this.version++;
    occupant.sessions.set(session.toString(), session);
    this.bySession.set(session.toString(), occupant);
  }

  /** Removes one session; returns true when the occupant has no session left and is gone. */
  removeSession(occupant: Occupant, session: JID): boolean {
    this.version++;
    occupant.sessions.delete(session.toString());
    this.bySession.delete(session.toString());
    if (occupant.sessions.size > 0) return false;
    this.byNick.delete(occupant.nick);
    return true;
  }

  /** Removes the occupant with every session. */
  remove(occupant: Occupant): void {
    this.version++;
    for (const key of occupant.sessions.keys()) this.bySession.delete(key);
    this.byNick.delete(occupant.nick);
  }

  /** Gives a single-session occupant a free nick. */
  rename(occupant: Occupant, nick: string): void {
    this.version++;
    this.byNick.delete(occupant.nick);
    occupant.nick = nick;
    this.byNick.set(nick, occupant);
  }

  /** Records that an occupant's role or presence changed. */
  changed(): void {
    this.version++;
  }

  /** Lists every session of every occupant. */
  sessions(): { occupant: Occupant; session: JID }[] {
    return this.all().flatMap((occupant) => [...occupant.sessions.values()].map((session) => ({ occupant, session })));
  }
}
