import type { PendingUpload, UploadFailure } from './attachment-types.js';
import type { ParleyDb } from './schema.js';

/** Pending uploads stored with their Blob. ChatStore.send deletes a row when its message enters the outbox. */
export class PendingUploads {
  constructor(private readonly db: ParleyDb) {}

  async add(upload: PendingUpload): Promise<void> {
    await this.db.uploads.put(upload);
  }

  get(id: string): Promise<PendingUpload | undefined> {
    return this.db.uploads.get(id);
  }

  /** Returns every pending upload of the account, oldest first. */
  async all(): Promise<PendingUpload[]> {
    const rows = await this.db.uploads.toArray();
    return rows.sort((a, b) => a.createdAt - b.createdAt);
  }

  async uploading(id: string): Promise<void> {
    await this.db.uploads.update(id, { state: 'uploading', failure: undefined });
  }

  async failed(id: string, failure: UploadFailure): Promise<void> {
    await this.db.uploads.update(id, { state: 'failed', failure });
  }

  async remove(id: string): Promise<void> {
    await this.db.uploads.delete(id);
  }
}
