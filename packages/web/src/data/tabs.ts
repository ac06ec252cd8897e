import type { DataChange } from './types.js';

/** The part of the Web Locks API the coordinator uses (navigator.locks in browsers). */
export interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<unknown>;
}

/** The part of BroadcastChannel the coordinator uses; typed here because Node's types lack the DOM's. */
interface ChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

type TabMessage = { type: 'change'; change: DataChange } | { type: 'outbox' };

/**
 * Coordinates the tabs of one account that share its database. One tab at a time is active,
 * chosen with a Web Lock: only that tab processes incoming stanzas, syncs and sends the outbox,
 * so nothing is written or sent twice. Changes travel to the other tabs over a
 * BroadcastChannel, and a passive tab that adds to the outbox wakes the active one.
 * Without Web Locks (Node tests), every store is active on its own.
 */
export class TabCoordinator {
  private readonly channel: ChannelLike | undefined;
  private release: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly handlers: { change(change: DataChange): void; outbox(): void },
    private readonly locks: LockManagerLike | null,
    shareChanges: boolean,
  ) {
    const Channel = (globalThis as unknown as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel;
    if (!shareChanges || !Channel) return;
    this.channel = new Channel(name);
    this.channel.onmessage = (event) => this.receive(event.data as TabMessage);
  }

  /** Calls `activate` once this tab holds the account's lock, which it keeps until close(). */
  whenActive(activate: () => void): void {
    if (!this.locks) return activate();
    void this.locks.request(`${this.name}:active`, () => {
      if (this.closed) return Promise.resolve();
      activate();
      return new Promise<void>((resolve) => (this.release = resolve));
    });
  }

  broadcast(change: DataChange): void {
    this.channel?.postMessage({ type: 'change', change } satisfies TabMessage);
  }

  /** Tells the active tab that the outbox has a new entry. */
  outboxChanged(): void {
    this.channel?.postMessage({ type: 'outbox' } satisfies TabMessage);
  }

  close(): void {
    this.closed = true;
    this.release?.();
    this.channel?.close();
  }

  private receive(message: TabMessage): void {
    if (message.type === 'change') this.handlers.change(message.change);
    else this.handlers.outbox();
  }
}

/** Returns the browser's Web Locks, or null where there are none. */
export function defaultLocks(): LockManagerLike | null {
  const navigatorLike = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return navigatorLike?.locks ?? null;
}
