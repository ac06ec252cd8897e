import { Dexie, type DexieOptions, type EntityTable } from 'dexie';
import type { ScramKeys } from '../xmpp/scram.js';

/**
 * What "keep me signed in" stores for one account: the SCRAM salted keys (ClientKey and
 * ServerKey with their salt and iteration count), never the password. They sign in again
 * after a reload or a browser restart.
 */
export interface StoredCredentials {
  /** The account's bare JID, lowercased. */
  jid: string;
  /** The server address as the user typed it on the sign-in screen. */
  server: string;
  keys: ScramKeys;
  savedAt: number;
}

/** All accounts share this database, apart from the per-account data, so sign-in finds it before knowing the account. */
export const CREDENTIALS_DB = 'parley-credentials';

class CredentialsDb extends Dexie {
  declare accounts: EntityTable<StoredCredentials, 'jid'>;

  constructor(options?: DexieOptions) {
    super(CREDENTIALS_DB, options);
    this.version(1).stores({ accounts: 'jid' });
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

export function saveCredentials(credentials: Omit<StoredCredentials, 'savedAt'>, options?: DexieOptions): Promise<void> {
  const row = { ...credentials, jid: credentials.jid.toLowerCase(), savedAt: Date.now() };
  return withDb(async (db) => void (await db.accounts.put(row)), options);
}

/** Returns the account's stored keys, or undefined when there are none or the row is not usable. */
export function loadCredentials(jid: string, options?: DexieOptions): Promise<StoredCredentials | undefined> {
  return withDb(async (db) => {
    const row = await db.accounts.get(jid.toLowerCase());
    return row && usableKeys(row.keys) && typeof row.server === 'string' ? row : undefined;
  }, options);
}

export function forgetCredentials(jid: string, options?: DexieOptions): Promise<void> {
  return withDb((db) => db.accounts.delete(jid.toLowerCase()), options);
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
