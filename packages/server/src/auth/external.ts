import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Logger } from 'pino';

/** The outcome of one password check against the external endpoint. */
export type ExternalVerdict = 'ok' | 'rejected' | 'unavailable';

/** Settings of the external authentication endpoint, from the `[auth]` section. */
export interface ExternalAuthOptions {
  /** http:// or https:// URL that receives `POST {username, domain, password}` as JSON. */
  url: string;
  timeoutMs: number;
  /** Seconds a successful check stays cached; 0 disables the cache. */
  cacheSeconds: number;
  log?: Pick<Logger, 'warn'>;
  now?: () => number;
}

interface CacheEntry {
  digest: Buffer;
  expiresAt: number;
}

/** Cached accounts at most; the oldest entry goes first when the cache is full. */
const MAX_CACHE_ENTRIES = 100_000;

/** Largest response body read from the endpoint, in bytes. */
const MAX_RESPONSE_BYTES = 4096;

/**
 * Checks passwords against an HTTP endpoint of the existing account system. The endpoint
 * accepts a password with status 200 and the JSON body `{"ok": true}`; any other 2xx, 3xx
 * or 4xx response rejects it. A timeout, a network error or a 5xx status makes the endpoint
 * unavailable: a success cached within `cacheSeconds` still logs in, anything else gets
 * 'unavailable'. The cache stores an HMAC of the password under a random per-process key,
 * never the password.
 */
export class ExternalAuth {
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;

  constructor(private readonly options: ExternalAuthOptions) {
    const protocol = new URL(options.url).protocol;
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`The external authentication URL must use http or https, not ${protocol}`);
    this.now = options.now ?? Date.now;
  }

  /** Checks the password of username@domain, from the cache when a fresh success is there. */
  async check(username: string, domain: string, password: string): Promise<ExternalVerdict> {
    const account = `${username}@${domain}`;
    const digest = this.digest(account, password);
    if (this.cachedSuccess(account, digest)) return 'ok';

    const verdict = await this.request(username, domain, password);
    if (verdict === 'ok') this.remember(account, digest);
    return verdict;
  }

  private async request(username: string, domain: string, password: string): Promise<ExternalVerdict> {
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username, domain, password }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `timed out after ${this.options.timeoutMs} ms` : String(error);
      this.options.log?.warn({ user: username, reason }, 'external authentication endpoint unavailable');
      return 'unavailable';
    }

    if (response.status >= 500) {
      await response.body?.cancel();
      this.options.log?.warn({ user: username, status: response.status }, 'external authentication endpoint unavailable');
      return 'unavailable';
    }
    return response.status === 200 && (await readAcceptance(response)) ? 'ok' : 'rejected';
  }

  private cachedSuccess(account: string, digest: Buffer): boolean {
    const entry = this.cache.get(account);
    if (entry === undefined) return false;
    if (entry.expiresAt <= this.now()) {
      this.cache.delete(account);
      return false;
    }
    return timingSafeEqual(entry.digest, digest);
  }

  private remember(account: string, digest: Buffer): void {
    if (this.options.cacheSeconds <= 0) return;
    this.cache.delete(account);
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(account, { digest, expiresAt: this.now() + this.options.cacheSeconds * 1000 });
  }

  private digest(account: string, password: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(account).update('\0').update(password).digest();
  }
}

/** Reads at most MAX_RESPONSE_BYTES and returns whether the body is JSON with `ok: true`. */
async function readAcceptance(response: Response): Promise<boolean> {
  if (response.body === null) return false;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    length += chunk.length;
    // Leaving the loop cancels the rest of the body.
    if (length > MAX_RESPONSE_BYTES) return false;
    chunks.push(Buffer.from(chunk));
  }

  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

const instances = new WeakMap<object, ExternalAuth | null>();

/** The `[auth]` keys that configure the external endpoint. */
export interface ExternalAuthConfig {
  external_url: string;
  external_timeout_ms: number;
  external_cache_s: number;
}

/**
 * Returns the server's ExternalAuth, created on first use, or null when `external_url` is
 * empty. One instance per configuration object keeps one cache per server.
 */
export function externalAuthFor(auth: ExternalAuthConfig, log?: Pick<Logger, 'warn'>): ExternalAuth | null {
  let instance = instances.get(auth);
  if (instance === undefined) {
    instance = auth.external_url === '' ? null : new ExternalAuth({ url: auth.external_url, timeoutMs: auth.external_timeout_ms, cacheSeconds: auth.external_cache_s, log });
    instances.set(auth, instance);
  }
  return instance;
}
