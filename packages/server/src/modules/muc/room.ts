import { type Element, JID, NS, x } from '@parley/xmpp';
import type { RoomHost } from './host.js';
import { TokenBucket } from '../../c2s/limits.js';
import { OccupantIqs } from './occupant-iq.js';
import { OccupantList } from './occupants.js';
import { affiliationAtLeast } from './permissions.js';
import { DEFAULT_CONFIG } from './room-config.js';
import type { Affiliation, AffiliationEntry, Occupant, RoomConfig } from './types.js';

/**
 * Maximum of pipelined messages waiting for their send in one room. A message beyond it waits
 * until the earlier sends ran, which bounds the memory a burst takes.
 * NOTE: an estimate, not measured; the fanout benchmark keeps far fewer in flight.
 */
const MAX_UNSENT = 500;

export interface RoomSubject {
  text: string;
  /** Nick of the occupant who set it; undefined when set by the room. */
  nick?: string;
  /** When it was set, in milliseconds since the epoch. */
  at: number;
}

export interface RoomState {
  config: RoomConfig;
  subject?: RoomSubject;
  affiliations: Map<string, AffiliationEntry>;
  createdBy: string;
  createdAt: number;
  locked: boolean;
}

/**
 * The state of one room and the helpers its stanza handlers share. Stanzas for a room run
 * one at a time, in order, through `run`, except that a groupchat message's send waits for
 * its archive write while the next messages start. Nothing here reaches the server but `host`.
 */
export class Room {
  readonly jid: JID;
  config: RoomConfig;
  subject: RoomSubject | undefined;
  readonly affiliations: Map<string, AffiliationEntry>;
  readonly occupants = new OccupantList();
  readonly iqs = new OccupantIqs();
  readonly createdBy: string;
  readonly createdAt: number;
  /** A new room stays locked until its owner configures it (XEP-0045 section 10.1). */
  locked: boolean;
  destroyed = false;
  /** Set when the host unloaded the room from memory; a task that still reaches this object goes to the reloaded room. */
  unloaded = false;
  private pending = 0;
  private readonly rates = new Map<string, TokenBucket>();
  private queue: Promise<unknown> = Promise.resolve();
  /** The sends of pipelined messages, chained in archive order. The chain never rejects. */
  private sends: Promise<void> = Promise.resolve();
  private unsent = 0;
  /** The occupant list version last handed to `host.saveOccupants`. */
  private savedVersion = 0;

  constructor(
    readonly host: RoomHost,
    readonly name: string,
    state: RoomState,
  ) {
    this.jid = JID.fromParts(name, host.service);
    this.config = state.config;
    this.subject = state.subject;
    this.affiliations = state.affiliations;
    this.createdBy = state.createdBy;
    this.createdAt = state.createdAt;
    this.locked = state.locked;
  }

  static create(host: RoomHost, name: string, creator: JID): Room {
    const affiliations = new Map<string, AffiliationEntry>([[creator.bare().toString(), { affiliation: 'owner' }]]);
    return new Room(host, name, { config: { ...DEFAULT_CONFIG }, affiliations, createdBy: creator.bare().toString(), createdAt: Date.now(), locked: true });
  }

  /**
   * Runs `task` after every task queued before it; a failing task does not stop the queue.
   * A task first waits until every pipelined message was sent (or refused), unless it is
   * `pipelined` itself: a groupchat message, which only queues its own send with `afterCommit`.
   * When the queue and the sends run empty, the host hears of it and may unload the room.
   */
  run<T>(task: () => Promise<T>, options: { pipelined?: boolean } = {}): Promise<T> {
    this.pending++;
    const result = this.queue.then(async () => {
      if (!options.pipelined || this.unsent >= MAX_UNSENT) await this.sends;
      try {
        return await task();
      } finally {
        if (!options.pipelined) await this.saveOccupants();
      }
    });
    this.queue = result
      .catch(() => undefined)
      .finally(() => {
        this.pending--;
        this.checkIdle();
      });
    return result;
  }

  /**
   * Queues `send` to run once `committed` resolves and every send queued before it ran, so
   * occupants get messages in the order their archive writes were queued. When `committed`
   * rejects, `failed` runs in its place. The returned promise resolves once either ran and never rejects.
   */
  afterCommit<T>(committed: Promise<T>, send: (value: T) => Promise<void> | void, failed: (err: unknown) => void): Promise<void> {
    // Handled now, so a write that fails while earlier sends wait is not an unhandled rejection.
    committed.catch(() => undefined);
    this.unsent++;
    const step = this.sends
      .then(() => committed)
      .then(send, failed)
      .catch((err: unknown) => this.host.log.error({ err, room: this.jid.toString() }, 'sending a room message failed'))
      .finally(() => {
        this.unsent--;
        this.checkIdle();
      });
    this.sends = step;
    return step;
  }

  private async saveOccupants(): Promise<void> {
    const { version } = this.occupants;
    if (version === this.savedVersion || this.unloaded) return;
    this.savedVersion = version;
    await this.host.saveOccupants(this).catch((err: unknown) => this.host.log.warn({ err, room: this.jid.toString() }, 'saving the occupants of a room failed'));
  }

  private checkIdle(): void {
    if (this.pending === 0 && this.unsent === 0) this.host.roomIdle(this);
  }

  /** Returns the affiliation of an account or domain. Service admins own every room. */
  affiliationOf(bare: JID): Affiliation {
    if (this.host.isServiceAdmin(bare)) return 'owner';
    const entry = this.affiliations.get(bare.bare().toString()) ?? this.affiliations.get(bare.domain);
    return entry?.affiliation ?? 'none';
  }

  /** Bare JIDs holding member, admin or owner. */
  members(): JID[] {
    return [...this.affiliations.entries()]
      .filter(([, entry]) => affiliationAtLeast(entry.affiliation, 'member'))
      .map(([jid]) => JID.parse(jid));
  }

  owners(): string[] {
    return [...this.affiliations.entries()].filter(([, entry]) => entry.affiliation === 'owner').map(([jid]) => jid);
  }

  occupantJid(nick: string): JID {
    return this.jid.withResource(nick);
  }

  /** True when an occupant message may go out: spends one token of the occupant's rate. */
  takeMessageToken(occupant: Occupant): boolean {
    let rate = this.rates.get(occupant.nick);
    if (!rate) {
      rate = new TokenBucket(this.host.limits.messages_per_second, this.host.limits.message_burst);
      this.rates.set(occupant.nick, rate);
    }
    return rate.tryTake();
  }

  forgetRate(nick: string): void {
    this.rates.delete(nick);
  }

  /** Sends `stanza` to one session, from `from` (the room or an occupant JID). */
  sendTo(session: JID, from: JID, stanza: Element): void {
    const copy = stanza.clone();
    copy.attrs.from = from.toString();
    copy.attrs.to = session.toString();
    this.host.send(copy);
  }

  /** Sends a message from the room itself to every occupant session. */
  broadcastRoomMessage(children: Element[]): void {
    for (const { session } of this.occupants.sessions()) {
      this.sendTo(session, this.jid, x('message', NS.CLIENT, { type: 'groupchat', id: `room-${Date.now().toString(36)}` }, ...children.map((child) => child.clone())));
    }
  }

  /** Writes the room row; the affiliations are written one by one as they change. */
  async persist(): Promise<void> {
    await this.host.store.save({
      service: this.host.service,
      name: this.name,
      persistent: this.config.persistent,
      public: this.config.public && !this.locked,
      config: JSON.stringify(this.config),
      subject: this.subject?.text ?? null,
      subjectNick: this.subject?.nick ?? null,
      subjectAt: this.subject?.at ?? null,
      createdBy: this.createdBy,
      createdAt: this.createdAt,
    });
  }

  async saveAffiliation(jid: string, entry: AffiliationEntry): Promise<void> {
    if (entry.affiliation === 'none') this.affiliations.delete(jid);
    else this.affiliations.set(jid, entry);
    await this.host.store.setAffiliation(this.host.service, this.name, {
      jid,
      affiliation: entry.affiliation,
      nick: entry.nick ?? null,
      reason: entry.reason ?? null,
    });
  }
}
