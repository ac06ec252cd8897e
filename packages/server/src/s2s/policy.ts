import type { Config } from '../config.js';

/** Which remote domains this server federates with: `[s2s] deny_domains`, then `allow_domains`. */
export class DomainPolicy {
  private readonly allowed: Set<string>;
  private readonly denied: Set<string>;

  constructor(config: Config['s2s']) {
    this.allowed = new Set(config.allow_domains.map((domain) => domain.toLowerCase()));
    this.denied = new Set(config.deny_domains.map((domain) => domain.toLowerCase()));
  }

  /** True when streams with `domain` are allowed in both directions. */
  allows(domain: string): boolean {
    const normalized = domain.toLowerCase();
    if (this.denied.has(normalized)) return false;
    return this.allowed.size === 0 || this.allowed.has(normalized);
  }
}
