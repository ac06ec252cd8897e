import type { Element } from '@parley/xmpp';

/** Failure of a server-to-server negotiation step, with the stanza error that queued stanzas bounce with. */
export class NegotiationError extends Error {
  constructor(
    message: string,
    readonly condition: 'remote-server-not-found' | 'remote-server-timeout' = 'remote-server-not-found',
  ) {
    super(message);
    this.name = 'NegotiationError';
  }
}

type Waiter = { resolve(element: Element): void; reject(err: Error): void; timer: NodeJS.Timeout };

/**
 * Elements (and the stream header) received while an outgoing negotiation waits for them
 * step by step. After `fail`, every wait rejects with that error.
 */
export class ElementInbox {
  private readonly items: Element[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;

  push(element: Element): void {
    if (this.waiter) {
      const { resolve, timer } = this.waiter;
      this.waiter = undefined;
      clearTimeout(timer);
      resolve(element);
      return;
    }
    this.items.push(element);
  }

  fail(err: Error): void {
    this.failure ??= err;
    if (!this.waiter) return;
    const { reject, timer } = this.waiter;
    this.waiter = undefined;
    clearTimeout(timer);
    reject(err);
  }

  /** Resolves with the next element; rejects after `timeoutMs`, naming `what` was expected. */
  next(what: string, timeoutMs: number): Promise<Element> {
    const queued = this.items.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new NegotiationError(`timed out waiting for ${what}`, 'remote-server-timeout'));
      }, timeoutMs);
      timer.unref();
      this.waiter = { resolve, reject, timer };
    });
  }
}
