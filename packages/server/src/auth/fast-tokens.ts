/**
 * FAST tokens (XEP-0484): issuing, checking, rotating and invalidating. The database contains
 * no token and no hash of one, because a token is the HMAC of its row id under a key in the data
 * folder, so a copy of the database alone cannot log in. The HT mechanisms need the token
 * itself as their HMAC key, which rules out storing a one-way hash only.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';

import type { Database } from '../storage/schema.js';

import { type FastOwner, type FastTokenRow, FastTokenStore } from './fast-token-store.js';

/** Name of the token key in the data folder. */
const KEY_FILE = 'fast-token.key';
const KEY_BYTES = 32;
/** Clients of one account that may hold tokens; the tokens of the least recent ones go first. */
export const MAX_CLIENTS_PER_ACCOUNT = 20;

export interface FastTokenOptions {
  dataDir: string;
  lifetimeS: number;
  rotateBeforeS: number;
  now?: () => number;
}

export interface IssuedToken {
  token: string;
  expiry: Date;
}

/** The outcome of a FAST login attempt. `rotate` is true when the success should carry a new token. */
export type FastVerdict =
  | { ok: true; row: FastTokenRow; rotate: boolean }
  | { ok: false; condition: 'not-authorized' | 'credentials-expired'; text: string };

export class FastTokens {
  private key: Buffer | undefined;
  private readonly store: FastTokenStore;
  private readonly now: () => number;

  constructor(
    db: Kysely<Database>,
    private readonly options: FastTokenOptions,
  ) {
    this.store = new FastTokenStore(db);
    this.now = options.now ?? Date.now;
  }

  /** Identifies a client by its SASL2 user-agent id without storing the id itself. */
  static clientOf(userAgentId: string): string {
    return createHash('sha256').update(userAgentId, 'utf8').digest('hex');
  }

  /** Issues a token for `mechanism` into the client's 'new' slot; an unused earlier one is dropped. */
  async issue(owner: FastOwner, mechanism: string): Promise<IssuedToken> {
    const now = this.now();
    const row: FastTokenRow = {
      ...owner,
      id: randomBytes(16).toString('base64url'),
      mechanism,
      slot: 'new',
      last_count: 0,
      created_at: now,
      expires_at: now + this.options.lifetimeS * 1000,
    };
    await this.store.putNew(row);
    await this.store.prune(owner.host, owner.username, MAX_CLIENTS_PER_ACCOUNT, now);
    return { token: this.tokenOf(row.id), expiry: new Date(row.expires_at) };
  }

  /**
   * Checks a login with a token: the 'new' slot first, then 'current' (XEP-0484 section
   * 6.1). `proofMatches` gets each candidate token. A match in 'new' retires 'current'.
   * `count`, when the client sent one, must exceed every count used before with the token.
   */
  async verify(owner: FastOwner, mechanism: string, proofMatches: (token: string) => boolean, count: number | undefined): Promise<FastVerdict> {
    const rows = await this.store.list(owner);
    const row = rows.find((candidate) => candidate.mechanism === mechanism && proofMatches(this.tokenOf(candidate.id)));
    if (!row) return { ok: false, condition: 'not-authorized', text: 'The token is not valid.' };

    const now = this.now();
    if (row.expires_at <= now) {
      await this.store.delete(row.id);
      return { ok: false, condition: 'credentials-expired', text: 'The token has expired; log in with your password.' };
    }
    if (count !== undefined) {
      if (count <= row.last_count) return { ok: false, condition: 'not-authorized', text: 'The token count was used before.' };
      await this.store.setCount(row.id, count);
    }
    if (row.slot === 'new') await this.store.promote(row);
    const rotate = row.expires_at - now <= this.options.rotateBeforeS * 1000;
    return { ok: true, row, rotate };
  }

  /** Makes a token unusable at once (`<fast invalidate='true'/>`). */
  async invalidate(row: FastTokenRow): Promise<void> {
    await this.store.delete(row.id);
  }

  /**
   * Deletes every token of an account: after a password change or when the account is
   * disabled. `db` may be a transaction, so that the tokens go with the old credentials.
   */
  static async revokeAccount(db: Kysely<Database>, host: string, username: string): Promise<void> {
    await new FastTokenStore(db).deleteAccount(host, username);
  }

  /** Derives the token of the row `id`. */
  tokenOf(id: string): string {
    return createHmac('sha256', this.secret()).update(id).digest('base64url');
  }

  /** Reads the token key, creating it (readable by the owner only) on first use. */
  private secret(): Buffer {
    if (this.key) return this.key;
    const file = path.join(this.options.dataDir, KEY_FILE);
    try {
      mkdirSync(this.options.dataDir, { recursive: true });
      writeFileSync(file, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const key = readFileSync(file);
    if (key.length !== KEY_BYTES) throw new Error(`${file} must hold ${KEY_BYTES} bytes; delete it to invalidate every FAST token`);
    this.key = key;
    return key;
  }
}
