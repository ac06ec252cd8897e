import type { DataChange } from './types.js';

type Listener = (change: DataChange) => void;

/** Fans data changes out to subscribers; a failing subscriber does not stop the others. */
export class ChangeFeed {
  private readonly listeners = new Set<Listener>();
  /** Also receives every local change, to pass it on to other tabs. */
  forward: Listener | undefined;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces a change made here: to this tab's subscribers and to the other tabs. */
  emit(change: DataChange): void {
    this.deliver(change);
    this.forward?.(change);
  }

  /** Announces a change to this tab's subscribers only. */
  deliver(change: DataChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        console.error('a data change listener failed', err);
      }
    }
  }
}
