/**
 * Rooms in a cluster: one node hosts each room, under a lease in Redis that it renews
 * with every heartbeat. A node that gets a stanza for a room another node hosts passes it
 * on. When the host dies, the next stanza for the room takes the lease over and the room
 * loads from the shared database, archive included, with the occupants the host last wrote
 * to Redis.
 */
import type { Logger } from 'pino';
import type { Cluster } from '../../cluster/cluster.js';
import { encodeOccupants, restoreOccupants } from './occupant-snapshot.js';
import type { OccupantList } from './occupants.js';

/** The rooms of this node, as far as the placement needs them. */
export interface PlacedRooms {
  /** Tells whether the room is in memory, loading or being created. */
  inUse(name: string): boolean;
  /** Drops the room from memory: another node took its lease. */
  lost(name: string): void;
}

export class RoomPlacement {
  /** Rooms whose lease this node holds. */
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly service: string,
    private readonly rooms: PlacedRooms,
    private readonly log: Logger,
  ) {}

  /** Renews the leases every `intervalMs`, and gives up those of rooms no longer in use. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.renew(), intervalMs);
    this.timer.unref();
  }

  /** Returns undefined when this node hosts `name` (it took the lease if it was free or its holder died), else the hosting node. */
  async hostOf(name: string): Promise<string | undefined> {
    if (this.held.has(name)) return undefined;
    const key = this.key(name);
    const holder = await this.cluster.leases.claim(key);
    if (holder === this.cluster.nodeId) return this.hold(name);
    if (!this.cluster.isLive(holder)) return this.takeOver(name, holder);
    return holder;
  }

  /** Takes `name` over from `node`, which did not read a stanza passed on to it; returns the new host as `hostOf` does. */
  async takeOver(name: string, node: string): Promise<string | undefined> {
    if (await this.cluster.leases.takeOver(this.key(name), node)) {
      this.log.info({ room: name, from: node }, 'cluster: took over a room whose node is gone');
      return this.hold(name);
    }
    const holder = await this.cluster.leases.claim(this.key(name));
    return holder === this.cluster.nodeId ? this.hold(name) : holder;
  }

  /** Writes the room's occupants to Redis, or removes them when there are none. */
  async saveOccupants(name: string, occupants: OccupantList): Promise<void> {
    const key = this.occupantsKey(name);
    if (occupants.size === 0) await this.cluster.redis.del(key);
    else await this.cluster.redis.set(key, encodeOccupants(occupants));
  }

  /** Adds the occupants that the room's previous host wrote to `occupants`. */
  async restoreOccupants(name: string, occupants: OccupantList, maxStanzaBytes: number): Promise<void> {
    const text = await this.cluster.redis.get(this.occupantsKey(name));
    if (text === null) return;
    try {
      restoreOccupants(occupants, text, maxStanzaBytes);
    } catch (err) {
      this.log.warn({ err, room: name }, 'cluster: the stored occupants of a room could not be read; it starts empty');
    }
  }

  private hold(name: string): undefined {
    this.held.add(name);
    return undefined;
  }

  private async renew(): Promise<void> {
    if (this.renewing || !this.cluster.running) return;
    this.renewing = true;
    try {
      for (const name of [...this.held]) {
        if (this.rooms.inUse(name)) continue;
        this.held.delete(name);
        await this.cluster.leases.release(this.key(name));
      }
      const names = [...this.held];
      const lost = new Set(await this.cluster.leases.renew(names.map((name) => this.key(name))));
      for (const name of names) {
        if (!lost.has(this.key(name))) continue;
        this.held.delete(name);
        this.log.warn({ room: name }, 'cluster: the lease of a room lapsed and another node may host it; dropping it here');
        this.rooms.lost(name);
      }
    } catch (err) {
      this.log.warn({ err }, 'cluster: renewing room leases failed');
    } finally {
      this.renewing = false;
    }
  }

  private key(name: string): string {
    return `muc:${this.service}/${name}`;
  }

  private occupantsKey(name: string): string {
    return `parley:muc:occupants:${this.service}/${name}`;
  }
}
