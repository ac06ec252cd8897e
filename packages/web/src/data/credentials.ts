import { Dexie, type DexieOptions, type EntityTable } from 'dexie';
import { FAST_MECHANISM, type FastToken } from '../xmpp/fast.js';
import type { ScramKeys } from '../xmpp/scram.js';
import { browserName, SOFTWARE_NAME, type UserAgent } from '../xmpp/user-agent.js';

/**
 * What "keep me signed in" stores for one account: the SCRAM salted keys (ClientKey and
 * ServerKey with their salt and iteration count) and the FAST token with its expiry, never the
 * password. They sign in again after a reload or a browser restart.
 */
export interface StoredCredentials {
  /** The account's bare JID, lowercased. */
  jid: string;
  /** The server address as the user typed it on the sign-in screen. */
  server: string;
  keys: ScramKeys;
  /** The FAST token (XEP-0484) the connection tries before the keys; the connection host keeps it current. */
  fast?: FastToken;
  savedAt: number;
}

/** A row as stored: the token can come before the keys and the server address (see saveFastToken). */
type AccountRow = Omit<StoredCredentials, 'keys' | 'server'> & Partial<Pick<StoredCredentials, 'keys' | 'server'>>;

/** The device's SASL2 user-agent id, shared by every account of this browser profile. */
interface DeviceRow {
  key: 'user-agent';
  id: string;
}

/** All accounts share this database, apart from the per-account data, so sign-in finds it before knowing the account. */
export const CREDENTIALS_DB = 'parley-credentials';

class CredentialsDb extends Dexie {
  declare accounts: EntityTable<AccountRow, 'jid'>;
  declare device: EntityTable<DeviceRow, 'key'>;

  constructor(options?: DexieOptions) {
    super(CREDENTIALS_DB, options);
    this.version(1).stores({ accounts: 'jid' });
    this.version(2).stores({ accounts: 'jid', device: 'key' });
  }
}

async function withDb<T>(work: (db: CredentialsDb) => Promise<T>, options?: DexieOptions): Promise<T> {
  const db = new CredentialsDb(options);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/** Stores the account's keys; a FAST token stored before stays unless `credentials` has one. */
export function saveCredentials(credentials: Omit<StoredCredentials, 'savedAt'>, options?: DexieOptions): Promise<void> {
  const jid = credentials.jid.toLowerCase();
  return withDb(
    (db) =>
      db.transaction('rw', db.accounts, async () => {
        const fast = credentials.fast ?? (await db.accounts.get(jid))?.fast;
        await db.accounts.put(withoutEmptyToken({ ...credentials, jid, fast, savedAt: Date.now() }));
      }),
    options,
  );
}

/**
 * Stores the account's FAST token, or removes it when `token` is undefined. The token may
 * come before the keys on the first login: the row then waits for saveCredentials, and
 * loadCredentials ignores it until the keys are there.
 */
export function saveFastToken(jid: string, token: FastToken | undefined, options?: DexieOptions): Promise<void> {
  const key = jid.toLowerCase();
  return withDb(
    (db) =>
      db.transaction('rw', db.accounts, async () => {
        const row = await db.accounts.get(key);
        if (!token) {
          if (row?.fast) await db.accounts.put(withoutEmptyToken({ ...row, fast: undefined }));
          return;
        }
        await db.accounts.put({ ...(row ?? { jid: key, savedAt: Date.now() }), fast: token });
      }),
    options,
  );
}

/** Returns this browser profile's SASL2 user agent, creating its id on first use. */
export function loadUserAgent(options?: DexieOptions): Promise<UserAgent> {
  return withDb(
    (db) =>
      db.transaction('rw', db.device, async () => {
        let row = await db.device.get('user-agent');
        if (!row) {
          row = { key: 'user-agent', id: crypto.randomUUID() };
          await db.device.put(row);
        }
        return { id: row.id, software: SOFTWARE_NAME, device: browserName() };
      }),
    options,
  );
}

/** Returns the account's stored keys, or undefined when there are none or the row is not usable. */
export function loadCredentials(jid: string, options?: DexieOptions): Promise<StoredCredentials | undefined> {
  return withDb(async (db) => {
    const row = await db.accounts.get(jid.toLowerCase());
    if (!row || !row.keys || !usableKeys(row.keys) || typeof row.server !== 'string') return undefined;
    const credentials = { ...row, keys: row.keys, server: row.server };
    return usableToken(row.fast) ? credentials : withoutEmptyToken({ ...credentials, fast: undefined });
  }, options);
}

export function forgetCredentials(jid: string, options?: DexieOptions): Promise<void> {
  return withDb((db) => db.accounts.delete(jid.toLowerCase()), options);
}

/** Drops an undefined `fast`, because IndexedDB would store the property itself. */
function withoutEmptyToken<T extends { fast?: FastToken }>(row: T): T {
  if (row.fast !== undefined) return row;
  const copy = { ...row };
  delete copy.fast;
  return copy;
}

function usableToken(token: FastToken | undefined): boolean {
  return !!token && token.mechanism === FAST_MECHANISM && typeof token.token === 'string' && Number.isFinite(token.expiry) && Number.isInteger(token.count) && token.count >= 0;
}

function usableKeys(keys: ScramKeys | undefined): boolean {
  return (
    !!keys &&
    (keys.hash === 'SHA-256' || keys.hash === 'SHA-1') &&
    typeof keys.salt === 'string' &&
    Number.isInteger(keys.iterations) &&
    keys.clientKey instanceof Uint8Array &&
    keys.serverKey instanceof Uint8Array
  );
}
