import type { XElement } from './element.js';
import { XmppStanzaError, XmppTimeoutError } from './errors.js';

interface Pending {
  to: string | undefined;
  resolve: (response: XElement) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Matches IQ responses to requests by id and sender. A response counts only when it comes from
 * the address the request went to (or, for a request without `to`, from the account or its
 * server), so that another entity cannot answer for them.
 */
export class IqTracker {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  nextId(): string {
    this.counter++;
    return `iq-${Date.now().toString(36)}-${this.counter}`;
  }

  track(id: string, to: string | undefined, timeoutMs: number): Promise<XElement> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new XmppTimeoutError(`no answer to IQ ${id} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { to, resolve, reject, timer });
    });
  }

  /** Settles the request `response` answers; returns false when it answers none. */
  settle(response: XElement, ownJid: string): boolean {
    const id = response.attr('id');
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!id || !pending || !fromMatches(response.attr('from'), pending.to, ownJid)) return false;

    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (response.attr('type') === 'error') pending.reject(new XmppStanzaError(response));
    else pending.resolve(response);
    return true;
  }

  rejectAll(error: Error): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}

function fromMatches(from: string | undefined, to: string | undefined, ownJid: string): boolean {
  const bare = ownJid.split('/')[0] ?? '';
  const domain = bare.includes('@') ? bare.slice(bare.indexOf('@') + 1) : bare;
  if (to === undefined || to === '' || to === bare) return from === undefined || from === '' || from === bare || from === ownJid || from === domain;
  return from?.toLowerCase() === to.toLowerCase();
}
