import { defineStore } from 'pinia';
import type { AttachmentMeta, ConversationKind, PendingUpload, UploadFailure } from '../data/index.js';
import { randomId } from '../data/jid.js';
import { probeMedia } from '../data/media-probe.js';
import { typeFromName } from '../data/oob.js';
import { PendingUploads } from '../data/pending-uploads.js';
import { checkSize, discoverUploadService, putFile, requestSlot, UploadError, type PutHandle, type UploadService } from '../data/upload-service.js';
import { maybeServices, services } from './services.js';

/** A pending upload as the UI shows it. The Blob stays in IndexedDB. */
export type UploadView = Omit<PendingUpload, 'file'>;

/** A file refused before anything was sent, shown once in its conversation. */
export interface UploadRefusal {
  conversation: string;
  name: string;
  failure: UploadFailure;
  maxFileSize?: number;
}

/** Uploads of one pick or drop that run at the same time. The rest wait for a free place. */
const PARALLEL_UPLOADS = 3;

/** In-flight PUTs of this tab, by upload id. They stay outside the state because they are not data. */
const running = new Map<string, PutHandle | 'slot'>();
const cancelled = new Set<string>();

function table(): PendingUploads {
  return new PendingUploads(services().db);
}

function viewOf(row: PendingUpload): UploadView {
  const { file: _file, ...view } = row;
  return view;
}

/** Files being uploaded and sent. Each shows as an outgoing bubble until its message is sent. */
export const useUploads = defineStore('uploads', {
  state: () => ({
    /** The upload service: undefined before discovery, null when the server has none. */
    service: undefined as UploadService | null | undefined,
    items: [] as UploadView[],
    /** Upload progress from 0 to 1, by id. */
    progress: {} as Record<string, number>,
    refusal: undefined as UploadRefusal | undefined,
    loaded: false,
  }),
  getters: {
    forConversation: (state) => (conversation: string) => state.items.filter((item) => item.conversation === conversation),
  },
  actions: {
    /** Finds the upload service and its size limit once per account. */
    async discover(): Promise<UploadService | null> {
      if (this.service !== undefined) return this.service;
      const found = await discoverUploadService(services().client).catch(() => undefined);
      // A failed lookup is tried again next time, so only a found service is cached.
      if (found) this.service = found;
      return found ?? null;
    },

    /** Reads the pending uploads a reload or another tab left. Those that no tab is running are marked failed. */
    async load(): Promise<void> {
      if (this.loaded) return;
      this.loaded = true;
      const rows = await table().all();
      for (const row of rows) {
        // TODO: an upload another tab of the account is running also shows as failed here.
        if (row.state === 'uploading' && !running.has(row.id)) {
          row.state = 'failed';
          row.failure = 'network';
          await table().failed(row.id, 'network');
        }
      }
      const known = new Set(this.items.map((item) => item.id));
      this.items = [...this.items, ...rows.filter((row) => !known.has(row.id)).map(viewOf)];
    },

    /** Uploads a file to the server's upload service and sends it as a message in the conversation. */
    async send(conversation: string, kind: ConversationKind, file: File, meta?: AttachmentMeta): Promise<void> {
      const type = file.type || typeFromName(file.name) || 'application/octet-stream';
      const service = await this.discover();
      if (!service) return this.refuse({ conversation, name: file.name, failure: 'no-service' });
      const tooLarge = checkSize(file.size, service);
      if (tooLarge) return this.refuse({ conversation, name: file.name, failure: 'too-large', maxFileSize: tooLarge.maxFileSize });

      const row: PendingUpload = {
        id: randomId(),
        conversation,
        kind,
        file,
        name: file.name,
        type,
        size: file.size,
        meta: await probeMedia(file, type, meta),
        createdAt: Date.now(),
        state: 'uploading',
      };
      // Marked as running before it is stored, so a load() in between does not take it for an interrupted upload.
      running.set(row.id, 'slot');
      await table().add(row);
      this.items = [...this.items, viewOf(row)];
      await this.run(row.id);
    },

    /** Sends several files (a picker, a drop, a paste), PARALLEL_UPLOADS at a time. */
    async sendAll(conversation: string, kind: ConversationKind, files: readonly File[]): Promise<void> {
      const queue = [...files];
      const worker = async (): Promise<void> => {
        for (let file = queue.shift(); file; file = queue.shift()) await this.send(conversation, kind, file);
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, queue.length) }, worker));
    },

    /** Uploads again a failed upload, also one left by a reload. */
    async retry(id: string): Promise<void> {
      if (running.has(id)) return;
      const row = await table().get(id);
      if (!row) return;
      const tooLarge = checkSize(row.size, (await this.discover()) ?? undefined);
      if (tooLarge) return this.fail(id, 'too-large');
      running.set(id, 'slot');
      await this.run(id);
    },

    /** Aborts the PUT (or the slot request) of an upload, which stays as failed with a retry button. */
    cancel(id: string): void {
      const handle = running.get(id);
      if (handle === undefined) return;
      cancelled.add(id);
      if (handle !== 'slot') handle.abort();
    },

    /** Drops a failed upload and its Blob. */
    async discard(id: string): Promise<void> {
      if (running.has(id)) return;
      await table().remove(id);
      this.items = this.items.filter((item) => item.id !== id);
    },

    dismissRefusal(): void {
      this.refusal = undefined;
    },

    refuse(refusal: UploadRefusal): void {
      this.refusal = refusal;
    },

    async run(id: string): Promise<void> {
      const row = await table().get(id);
      if (!row) {
        running.delete(id);
        return;
      }
      running.set(id, 'slot');
      this.setState(id, 'uploading');
      this.progress[id] = 0;
      await table().uploading(id);
      try {
        const url = await this.upload(row);
        const attachment = { url, name: row.name, type: row.type, size: row.size, ...row.meta };
        await services().chat.send(row.conversation, url, row.kind, { attachment, uploadId: id });
        this.items = this.items.filter((item) => item.id !== id);
      } catch (err) {
        await this.fail(id, err instanceof UploadError ? err.failure : 'server');
        if (!(err instanceof UploadError)) console.error('upload failed', err);
      } finally {
        running.delete(id);
        cancelled.delete(id);
        delete this.progress[id];
      }
    },

    /** Requests a slot and PUTs the bytes. Returns the URL to share. */
    async upload(row: PendingUpload): Promise<string> {
      const service = await this.discover();
      if (!service) throw new UploadError('no-service');
      const slot = await requestSlot(services().client, service.jid, row);
      if (cancelled.has(row.id)) throw new UploadError('cancelled');
      const handle = putFile(slot, row.file, row.type, (fraction) => (this.progress[row.id] = fraction));
      running.set(row.id, handle);
      await handle.done;
      return slot.getUrl;
    },

    async fail(id: string, failure: UploadFailure): Promise<void> {
      if (maybeServices()) await table().failed(id, failure);
      this.items = this.items.map((item) => (item.id === id ? { ...item, state: 'failed', failure } : item));
    },

    setState(id: string, state: 'uploading' | 'failed'): void {
      this.items = this.items.map((item) => (item.id === id ? { ...item, state, failure: undefined } : item));
    },

    /** Aborts every running upload, at sign-out. */
    stopAll(): void {
      for (const id of running.keys()) this.cancel(id);
    },
  },
});
