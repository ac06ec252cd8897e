/** The MUC service: its rooms by name, and the dispatch of every stanza addressed to the service domain. */
import type { Logger } from 'pino';
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import type { MucRoomRepository } from '../../storage/index.js';
import { isServerEntity } from '../mam/ids.js';
import { activityOf, affiliatedRooms } from './activity.js';
import { serviceInfo } from './disco.js';
import type { MucMessageEvent, RoomArchiveApi, RoomHost } from './host.js';
import { MUC_NS } from './ns.js';
import { refuseUnjoined } from './join.js';
import { leave } from './leave.js';
import { isPipelinedMessage, trackWrite } from './messages.js';
import { answerIq, refuse } from './reply.js';
import { Room } from './room.js';
import { type RoomPlacement } from './placement.js';
import { parseStoredConfig } from './room-config.js';
import { handleRoomStanza } from './room-stanzas.js';
import type { AffiliationEntry, Affiliation } from './types.js';

/** Cluster nodes a room stanza may pass through, counting the one where it entered. */
const MAX_ROOM_HOPS = 2;

/** Serves one MUC domain. Rooms load from storage on first use and unload when they are empty and idle. */
export class MucService implements RoomHost {
  readonly service: string;
  readonly limits: Config['muc'];
  readonly store: MucRoomRepository;
  private readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<Room | undefined>>();
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly sendChains = new Map<string, Promise<void>>();
  private readonly admins: Set<string>;
  /** Set in a cluster, where one node at a time hosts each room. */
  placement: RoomPlacement | undefined;

  constructor(
    private readonly server: ServerContext,
    readonly archive: RoomArchiveApi,
    readonly log: Logger,
  ) {
    this.limits = server.config.muc;
    this.service = server.config.muc.domain || `conference.${server.config.domain}`;
    this.store = server.storage.mucRooms;
    this.admins = new Set(this.limits.admins.map((admin) => JID.parse(admin).bare().toString()));
  }

  /** Temporary rooms do not outlive a restart: their rows go at start, unless other cluster nodes run and may host them. */
  async start(): Promise<void> {
    if ((this.server.cluster?.otherNodes().length ?? 0) > 0) return;
    const removed = await this.store.deleteTemporary(this.service);
    if (removed > 0) this.log.info({ removed }, 'removed temporary rooms left by the previous run');
  }

  /**
   * Routes a stanza from its 'from' to its 'to', after every stanza sent earlier to the
   * same address. It returns before routing, so a room task never waits on a stanza that
   * routes back into the same room's queue.
   */
  send(stanza: Element): void {
    const to = JID.parseOrNull(stanza.attr('to') ?? '');
    const from = JID.parseOrNull(stanza.attr('from') ?? '');
    if (!to || !from) return;
    const key = to.toString();
    const previous = this.sendChains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.server.router.route(stanza, from, to))
      .catch((err: unknown) => this.log.error({ err }, 'routing a room stanza failed'));
    this.sendChains.set(key, next);
    void next.then(() => {
      if (this.sendChains.get(key) === next) this.sendChains.delete(key);
    });
  }

  async messageSent(event: MucMessageEvent): Promise<void> {
    try {
      await this.server.hooks.fire('muc/message', event);
    } catch (err) {
      this.log.error({ err }, 'muc/message hook failed');
    }
  }

  async accountExists(bare: JID): Promise<boolean> {
    if (bare.domain !== this.server.config.domain || bare.local === '') return false;
    return this.server.storage.accounts.exists(bare.domain, bare.local);
  }

  isServiceAdmin(bare: JID): boolean {
    return this.admins.has(bare.bare().toString());
  }

  roomDeleted(name: string): void {
    this.rooms.delete(name);
  }

  /**
   * Unloads a persistent room that has no occupants and no queued stanzas: its state is in
   * storage, and `room()` loads it again on the next stanza. Temporary and locked rooms are
   * deleted when they empty instead.
   */
  roomIdle(room: Room): void {
    if (room.occupants.size > 0 || room.destroyed || room.locked || !room.config.persistent) return;
    if (this.rooms.get(room.name) !== room) return;
    room.unloaded = true;
    this.rooms.delete(room.name);
  }

  isOwnEntity(jid: string): boolean {
    const parsed = JID.parseOrNull(jid);
    if (!parsed) return false;
    const { domain } = this.server.config;
    if (parsed.domain === this.service) return true;
    // The server itself, but not its users, who may stamp their own delays.
    if (parsed.domain === domain) return parsed.local === '';
    return isServerEntity(jid, domain);
  }

  /** Lists the rooms in memory. */
  liveRooms(): Room[] {
    return [...this.rooms.values()];
  }

  /** Returns the room, loading a persistent one from storage; undefined when it does not exist. */
  async room(name: string): Promise<Room | undefined> {
    const live = this.rooms.get(name);
    if (live) return live;
    let loading = this.loading.get(name);
    if (!loading) {
      loading = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, loading);
    }
    return loading;
  }

  private async load(name: string): Promise<Room | undefined> {
    const stored = await this.store.get(this.service, name);
    if (!stored) return undefined;
    const affiliations = new Map<string, AffiliationEntry>();
    for (const row of await this.store.listAffiliations(this.service, name)) {
      affiliations.set(row.jid, { affiliation: row.affiliation as Affiliation, nick: row.nick ?? undefined, reason: row.reason ?? undefined });
    }
    const subject = stored.subject === null ? undefined : { text: stored.subject, nick: stored.subjectNick ?? undefined, at: stored.subjectAt ?? stored.createdAt };
    const room = new Room(this, name, { config: parseStoredConfig(stored.config), subject, affiliations, createdBy: stored.createdBy, createdAt: stored.createdAt, locked: false });
    if (this.placement) await this.restoreOccupants(this.placement, room);
    this.rooms.set(name, room);
    return room;
  }

  /** Takes over the occupants the room's previous cluster node wrote, and removes those whose session is gone. */
  private async restoreOccupants(placement: RoomPlacement, room: Room): Promise<void> {
    await placement.restoreOccupants(room.name, room.occupants, this.server.config.sessions.max_stanza_bytes);
    const ended = room.occupants.sessions().filter(({ session }) => !this.server.sessions.get(session) && !this.server.cluster?.locate(session));
    for (const { session } of ended) void room.run(() => leave(room, session, undefined));
  }

  /**
   * Creates a room for `creator`. Refusing creation rights is `not-allowed` (section 10.1.1);
   * a user at the per-user room limit gets `resource-constraint`, because the quota frees
   * up when one of the user's rooms goes, unlike a permission.
   */
  async create(name: string, creator: JID): Promise<Room> {
    const bare = creator.bare();
    if (!this.mayCreate(bare)) throw new StanzaError('not-allowed', 'You may not create rooms on this service.');
    if (!this.isServiceAdmin(bare) && (await this.store.countCreatedBy(this.service, bare.toString())) >= this.limits.max_rooms_per_user) {
      throw new StanzaError('resource-constraint', 'You have created as many rooms as this service allows.', { type: 'wait' });
    }
    const room = Room.create(this, name, creator);
    this.rooms.set(name, room);
    await room.persist();
    await room.saveAffiliation(bare.toString(), { affiliation: 'owner' });
    return room;
  }

  private mayCreate(bare: JID): boolean {
    if (this.isServiceAdmin(bare)) return true;
    return this.limits.create === 'local' && bare.domain === this.server.config.domain && bare.local !== '';
  }

  async saveOccupants(room: Room): Promise<void> {
    await this.placement?.saveOccupants(room.name, room.occupants);
  }

  /** Tells whether the room is in memory, loading or being created. */
  inUse(name: string): boolean {
    return this.rooms.has(name) || this.loading.has(name) || this.creating.has(name);
  }

  /** Drops a room from memory without a word to its occupants: another cluster node hosts it now. */
  lost(name: string): void {
    const room = this.rooms.get(name);
    if (!room) return;
    room.unloaded = true;
    this.rooms.delete(name);
  }

  /** Handles every stanza to the service domain or one of its rooms; `hops` counts the cluster nodes that passed it on. */
  async handle(event: StanzaEvent, hops = 0): Promise<void> {
    if (event.to.local === '') return this.handleService(event);
    if (this.placement && !(await this.hostedHere(this.placement, event, hops))) return;
    const existing = await this.room(event.to.local);
    // A room unloaded after this lookup passes the stanza on to its reloaded self.
    const pipelined = isPipelinedMessage(event.stanza, event.to);
    if (existing) return existing.run(() => (existing.unloaded ? this.handle(event) : handleRoomStanza(existing, event, false)), { pipelined });
    await this.handleMissingRoom(event);
  }

  /**
   * In a cluster, passes the stanza on to the node that hosts its room, and returns true when
   * that is this node. A groupchat message's sender is acknowledged once the host stored it.
   */
  private async hostedHere(placement: RoomPlacement, event: StanzaEvent, hops: number): Promise<boolean> {
    const name = event.to.local;
    let host = await placement.hostOf(name);
    for (let pass = hops; host !== undefined; pass++) {
      if (pass >= MAX_ROOM_HOPS) {
        refuse(this, event.stanza, new StanzaError('internal-server-error', 'The room is moving between servers; send it again.', { type: 'wait' }));
        return false;
      }
      const durable = isPipelinedMessage(event.stanza, event.to);
      const relayed = await this.server.cluster!.sendToService(host, event, pass + 1, durable);
      if (relayed.delivered) {
        if (durable) trackWrite(event, relayed.settled);
        return false;
      }
      host = await placement.takeOver(name, host);
    }
    return true;
  }

  /** Handles a stanza for a room that does not exist: a join creates it, anything else gets an error. */
  private async handleMissingRoom(event: StanzaEvent): Promise<void> {
    const { stanza, to } = event;
    const type = stanza.attr('type');
    if (stanza.name === 'presence') {
      if (type !== undefined || to.resource === '') {
        if (type === undefined) refuse(this, stanza, new StanzaError('jid-malformed', 'Join a room with a nickname: room@service/nick.'));
        return;
      }
      if (!stanza.getChild('x', MUC_NS.MUC)) refuseUnjoined(this, to, event.from);
      else await this.createAndJoin(event);
      return;
    }
    if (stanza.name === 'iq' && (type === 'result' || type === 'error')) return;
    refuse(this, stanza, new StanzaError('item-not-found', 'No such room.'));
  }

  /** Creates the room for the first join. A join racing with it enters the new room like any other. */
  private async createAndJoin(event: StanzaEvent): Promise<void> {
    const name = event.to.local;
    const pending = this.creating.get(name);
    if (pending) {
      const room = await pending.catch(() => undefined);
      if (room) await room.run(() => handleRoomStanza(room, event, false));
      else refuse(this, event.stanza, new StanzaError('item-not-found', 'No such room.'));
      return;
    }
    const creation = this.create(name, event.from).finally(() => this.creating.delete(name));
    this.creating.set(name, creation);
    let room: Room;
    try {
      room = await creation;
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      refuse(this, event.stanza, err);
      return;
    }
    await room.run(() => handleRoomStanza(room, event, true));
  }

  private async handleService(event: StanzaEvent): Promise<void> {
    const { stanza } = event;
    if (stanza.name !== 'iq') {
      if (stanza.name === 'message') refuse(this, stanza, new StanzaError('service-unavailable', 'The service takes no messages.'));
      return;
    }
    await answerIq(this, stanza, async (payload) => {
      const type = stanza.attr('type');
      if (type === 'get' && payload.ns === NS.DISCO_INFO && payload.name === 'query') return serviceInfo('Chatrooms');
      if (type === 'get' && payload.ns === NS.DISCO_ITEMS && payload.name === 'query') return this.serviceItems();
      if (type === 'get' && payload.ns === MUC_NS.ACTIVITY && payload.name === 'activity') return this.activity(event.from);
      if (type === 'get' && payload.ns === NS.PING && payload.name === 'ping') return undefined;
      throw new StanzaError('service-unavailable');
    });
  }

  /** Section 6.3: the public rooms, stored or live and configured. */
  private async serviceItems(): Promise<Element> {
    const names = new Map<string, string>();
    for (const stored of await this.store.listPublic(this.service)) names.set(stored.name, parseStoredConfig(stored.config).name);
    for (const room of this.rooms.values()) {
      if (room.locked || !room.config.public) names.delete(room.name);
      else names.set(room.name, room.config.name);
    }
    const query = x('query', NS.DISCO_ITEMS);
    for (const [name, title] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
      query.append(x('item', NS.DISCO_ITEMS, { jid: JID.fromParts(name, this.service).toString(), name: title || name }));
    }
    return query;
  }

  private async activity(from: JID): Promise<Element> {
    const jids = await affiliatedRooms(this, from);
    return activityOf(this, from.bare(), jids.map((jid) => ({ jid, live: this.rooms.get(jid.local) })));
  }

  /** Removes an ended session from every room that still contains it. The presence module's unavailable presence normally did this already. */
  async sessionEnded(session: JID): Promise<void> {
    for (const room of this.rooms.values()) {
      if (room.occupants.bySessionJid(session)) await room.run(() => leave(room, session, undefined));
    }
  }
}
