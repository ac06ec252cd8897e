import { sql, type Kysely, type Selectable } from 'kysely';

import type { Database, UploadsTable } from './schema.js';

export type UploadState = 'slot' | 'uploading' | 'stored';

/** An upload slot or stored file (XEP-0363). */
export interface UploadRecord {
  id: string;
  host: string;
  username: string;
  filename: string;
  size: number;
  contentType: string;
  state: UploadState;
  /** SHA-256 of the PUT secret, base64url. */
  secretHash: string;
  createdAt: number;
  slotExpiresAt: number;
  storedAt: number | null;
}

export type NewUploadSlot = Omit<UploadRecord, 'state' | 'storedAt'>;

/** A stored file of an account, for quota and expiry sums. */
export interface StoredFile {
  size: number;
  storedAt: number;
}

/** Upload slots and the metadata of stored files; the bytes live in a FileStore. */
export class UploadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createSlot(slot: NewUploadSlot): Promise<void> {
    await this.db
      .insertInto('uploads')
      .values({
        id: slot.id,
        host: slot.host,
        username: slot.username,
        filename: slot.filename,
        size: slot.size,
        content_type: slot.contentType,
        state: 'slot',
        secret_hash: slot.secretHash,
        created_at: slot.createdAt,
        slot_expires_at: slot.slotExpiresAt,
        stored_at: null,
      })
      .execute();
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    const row = await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Moves a slot from 'slot' to 'uploading' if it is still waiting and within its lifetime.
   * Returns false when another PUT took it first, it was used, or it expired.
   */
  async claim(id: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('uploads').set({ state: 'uploading' }).where('id', '=', id).where('state', '=', 'slot').where('slot_expires_at', '>', now).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives a slot whose upload failed back to its owner for another attempt. */
  async release(id: string): Promise<void> {
    await this.db.updateTable('uploads').set({ state: 'slot' }).where('id', '=', id).where('state', '=', 'uploading').execute();
  }

  /** Gives back every slot whose upload was running when the process stopped. */
  async releaseAll(): Promise<number> {
    const result = await this.db.updateTable('uploads').set({ state: 'slot' }).where('state', '=', 'uploading').executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async markStored(id: string, storedAt: number): Promise<void> {
    await this.db.updateTable('uploads').set({ state: 'stored', stored_at: storedAt }).where('id', '=', id).where('state', '=', 'uploading').execute();
  }

  /** Bytes the account holds: stored files, running uploads and slots that may still be used. */
  async reservedBytes(host: string, username: string, now: number): Promise<number> {
    const row = await this.db
      .selectFrom('uploads')
      .select(sql<number | string | null>`sum(size)`.as('total'))
      .where('host', '=', host)
      .where('username', '=', username)
      .where((eb) => eb.or([eb('state', '!=', 'slot'), eb('slot_expires_at', '>', now)]))
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  /** Lists the account's stored files, oldest first. */
  async storedFiles(host: string, username: string): Promise<StoredFile[]> {
    const rows = await this.db
      .selectFrom('uploads')
      .select(['size', 'stored_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .where('state', '=', 'stored')
      .orderBy('stored_at')
      .execute();
    return rows.map((row) => ({ size: Number(row.size), storedAt: Number(row.stored_at) }));
  }

  /** Ids of the account's rows in every state. */
  async idsOfAccount(host: string, username: string): Promise<string[]> {
    const rows = await this.db.selectFrom('uploads').select('id').where('host', '=', host).where('username', '=', username).execute();
    return rows.map((row) => row.id);
  }

  /** Ids of up to `limit` files stored at or before `storedBefore`. */
  async storedBefore(storedBefore: number, limit: number): Promise<string[]> {
    const rows = await this.db.selectFrom('uploads').select('id').where('state', '=', 'stored').where('stored_at', '<=', storedBefore).orderBy('stored_at').limit(limit).execute();
    return rows.map((row) => row.id);
  }

  /** Ids of up to `limit` slots and uploads whose lifetime ended at or before `before`. */
  async unusedSlots(before: number, limit: number): Promise<{ id: string; state: UploadState }[]> {
    const rows = await this.db.selectFrom('uploads').select(['id', 'state']).where('state', '!=', 'stored').where('slot_expires_at', '<=', before).limit(limit).execute();
    return rows.map((row) => ({ id: row.id, state: row.state as UploadState }));
  }

  /** Ids of up to `limit` rows whose account no longer exists. */
  async orphans(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('uploads')
      .select('uploads.id')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('accounts').select('accounts.username').whereRef('accounts.host', '=', 'uploads.host').whereRef('accounts.username', '=', 'uploads.username'))),
      )
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('uploads').where('id', '=', id).execute();
  }

  /** Sets when a file was stored; for tests of expiry and for imports. */
  async setStoredAt(id: string, storedAt: number): Promise<void> {
    await this.db.updateTable('uploads').set({ stored_at: storedAt }).where('id', '=', id).execute();
  }
}

function toRecord(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    host: row.host,
    username: row.username,
    filename: row.filename,
    size: Number(row.size),
    contentType: row.content_type,
    state: row.state as UploadState,
    secretHash: row.secret_hash,
    createdAt: Number(row.created_at),
    slotExpiresAt: Number(row.slot_expires_at),
    storedAt: row.stored_at === null ? null : Number(row.stored_at),
  };
}
