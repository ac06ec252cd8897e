import type { Element, StanzaError } from '@parley/xmpp';
import { type LinkHost, OutgoingLink } from './outgoing-link.js';

/**
 * Time after a failed connection during which stanzas for that domain pair bounce at once
 * with the same error instead of starting another attempt, so that an unreachable server is
 * not dialled for every stanza. A fixed value, chosen to cover a burst of messages.
 */
const FAILURE_HOLD_MS = 5000;

/** One outgoing link per pair of local and remote domain, created when a stanza needs it. */
export class OutgoingPool {
  private readonly links = new Map<string, OutgoingLink>();
  private readonly recentFailures = new Map<string, { until: number; error: StanzaError }>();

  constructor(private readonly host: LinkHost) {}

  send(local: string, remote: string, stanza: Element): void {
    const key = pairKey(local, remote);
    let link = this.links.get(key);
    if (!link?.isOpen) {
      const failure = this.recentFailures.get(key);
      if (failure && failure.until > Date.now()) {
        this.host.bounce(stanza, failure.error);
        return;
      }
      this.recentFailures.delete(key);
      link = new OutgoingLink(this.host, local, remote, (closed) => this.remove(closed));
      if (link.isOpen) this.links.set(key, link);
    }
    link.send(stanza);
  }

  /** Returns the link from `local` to `remote`, if one is open or opening. */
  get(local: string, remote: string): OutgoingLink | undefined {
    return this.links.get(pairKey(local, remote));
  }

  /** Closes every link; stanzas still queued bounce. */
  closeAll(reason: string): void {
    for (const link of [...this.links.values()]) link.close(reason);
  }

  private remove(link: OutgoingLink): void {
    const key = pairKey(link.local, link.remote);
    if (this.links.get(key) === link) this.links.delete(key);
    if (!link.failure) return;
    const now = Date.now();
    for (const [pair, failure] of this.recentFailures) if (failure.until <= now) this.recentFailures.delete(pair);
    this.recentFailures.set(key, { until: now + FAILURE_HOLD_MS, error: link.failure });
  }
}

function pairKey(local: string, remote: string): string {
  return `${local} ${remote}`;
}
