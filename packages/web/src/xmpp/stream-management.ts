import type { XElement } from './element.js';

/** A stanza written under stream management, waiting for the server's `<a h/>`. */
export interface Unacked {
  stanza: XElement;
  acked?: { resolve: () => void; reject: (err: Error) => void };
}

const COUNTED = new Set(['message', 'presence', 'iq']);
const MODULO = 2 ** 32;

/** XEP-0198 state of one session: counters, the unacknowledged queue and the resumption id. */
export class StreamManagement {
  enabled = false;
  resumeId: string | undefined;
  /** Stanzas received since `<enable/>`, modulo 2^32: our `h`. */
  inbound = 0;
  /** The last `h` the server acknowledged. */
  private acked = 0;
  readonly unacked: Unacked[] = [];

  static counts(element: XElement): boolean {
    return COUNTED.has(element.name);
  }

  enable(resumeId: string | undefined): void {
    this.enabled = true;
    this.resumeId = resumeId;
    this.inbound = 0;
    this.acked = 0;
  }

  received(): void {
    this.inbound = (this.inbound + 1) % MODULO;
  }

  written(item: Unacked): void {
    this.unacked.push(item);
  }

  /**
   * Applies the server's `h`: the stanzas it covers leave the queue and their promises resolve.
   * Returns false when `h` acknowledges more than was sent (the caller ends the stream).
   */
  acknowledge(h: number): boolean {
    const covered = (h - this.acked + MODULO) % MODULO;
    if (covered > this.unacked.length) return false;
    this.acked = h;
    for (const item of this.unacked.splice(0, covered)) item.acked?.resolve();
    return true;
  }

  /** Forgets the session: every waiting stanza is dropped and its promise rejects with `error`. */
  reset(error: Error): Unacked[] {
    this.enabled = false;
    this.resumeId = undefined;
    this.inbound = 0;
    this.acked = 0;
    const dropped = this.unacked.splice(0);
    for (const item of dropped) item.acked?.reject(error);
    return dropped;
  }
}
