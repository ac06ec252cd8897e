/**
 * The upload service at its own domain (XEP-0363): disco#info with the size limit, and slot
 * requests from local accounts. The HTTP side (net/upload-http.ts) stores and serves the
 * files through the same object.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Element, type JID, NS, StanzaError, buildForm, errorReply, x } from '@parley/xmpp';
import type { Logger } from 'pino';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { validateRequest } from '../../core/iq.js';
import type { FileStore } from '../../files/index.js';
import type { UploadRecord } from '../../storage/index.js';
import { refusalOf } from './media-types.js';
import { checkQuota, xmppStamp } from './quota.js';
import { SlotRateLimit } from './rate-limit.js';
import { NS_UPLOAD, type SlotRequest, parseSlotRequest } from './slot-request.js';
import { Thumbnailer, thumbnailIds } from './thumbnails.js';

export const SERVICE_NAME = 'HTTP File Upload';
/** Path of uploads on the HTTP listeners: /upload/SLOT/NAME. */
export const UPLOAD_PATH = '/upload/';

/** A slot as the client gets it. */
export interface Slot {
  putUrl: string;
  getUrl: string;
  /** Value of the Authorization header the PUT must carry. */
  authorization: string;
}

export class UploadService {
  /** The time source; tests replace it to move through slot lifetimes and expiry. */
  clock = { now: (): number => Date.now() };
  /** Ports of the HTTP and HTTPS listeners, noted when they start, for the default public URL. */
  readonly listeners: { http?: number; https?: number } = {};
  /** Slots with a PUT running in this process; the sweeper leaves them alone. */
  readonly uploading = new Set<string>();
  readonly thumbnails: Thumbnailer;
  private readonly rateLimit: SlotRateLimit;

  constructor(
    readonly server: ServerContext,
    /** The service's domain, such as upload.example.org. */
    readonly domain: string,
    readonly store: FileStore,
    readonly log: Logger,
  ) {
    this.rateLimit = new SlotRateLimit(server.config.upload.slots_per_minute);
    this.thumbnails = new Thumbnailer(store, log);
  }

  get settings() {
    return this.server.config.upload;
  }

  /** Handles a stanza addressed to the service's domain. */
  async handle(event: StanzaEvent): Promise<void> {
    const { stanza } = event;
    const type = stanza.attr('type');
    if (stanza.name !== 'iq') {
      if (stanza.name === 'message' && type !== 'error') this.reply(event, errorReply(stanza, new StanzaError('service-unavailable', 'The upload service takes no messages.')));
      return;
    }
    if (type === 'result' || type === 'error') return;

    const invalid = validateRequest(stanza);
    if (invalid) return this.reply(event, errorReply(stanza, invalid));
    try {
      const payload = await this.answer(event, stanza.elements()[0]!);
      this.reply(event, x('iq', NS.CLIENT, { type: 'result', id: stanza.attr('id') }, payload));
    } catch (err) {
      if (err instanceof StanzaError) return this.reply(event, errorReply(stanza, err));
      const incident = randomUUID();
      this.log.error({ err, incident }, 'upload request failed');
      this.reply(event, errorReply(stanza, new StanzaError('internal-server-error', `Internal error ${incident}.`)));
    }
  }

  private async answer(event: StanzaEvent, payload: Element): Promise<Element | undefined> {
    const type = event.stanza.attr('type');
    if (event.to.local !== '' || event.to.resource !== '') throw new StanzaError('item-not-found', 'The upload service has no entities below its domain.');
    if (type === 'get' && payload.ns === NS.DISCO_INFO && payload.name === 'query' && payload.attr('node') === undefined) return this.info();
    if (type === 'get' && payload.ns === NS.DISCO_ITEMS && payload.name === 'query') return x('query', NS.DISCO_ITEMS);
    if (type === 'get' && payload.ns === NS.PING && payload.name === 'ping') return undefined;
    if (type === 'get' && payload.ns === NS_UPLOAD && payload.name === 'request') return slotElement(await this.requestSlot(event.from, payload));
    throw new StanzaError('service-unavailable');
  }

  /** disco#info: identity store/file, the feature, and max-file-size in an XEP-0128 form. */
  info(): Element {
    const form = buildForm({
      type: 'result',
      fields: [
        { var: 'FORM_TYPE', type: 'hidden', values: [NS_UPLOAD] },
        { var: 'max-file-size', values: [String(this.settings.max_file_bytes)] },
      ],
    });
    return x(
      'query',
      NS.DISCO_INFO,
      {},
      x('identity', NS.DISCO_INFO, { category: 'store', type: 'file', name: SERVICE_NAME }),
      ...[NS.DISCO_INFO, NS.DISCO_ITEMS, NS_UPLOAD].map((feature) => x('feature', NS.DISCO_INFO, { var: feature })),
      form,
    );
  }

  /** Checks a slot request in the order: sender, rate, syntax, size, type, quota; then creates the slot. */
  async requestSlot(from: JID, payload: Element): Promise<Slot> {
    const { domain } = this.server.config;
    if (from.domain !== domain || from.local === '') throw new StanzaError('forbidden', `Only accounts of ${domain} may upload files.`);
    const now = this.clock.now();

    const retryAt = this.rateLimit.take(`${from.local}@${from.domain}`, now);
    if (retryAt !== undefined) {
      const stamp = xmppStamp(retryAt);
      throw new StanzaError('resource-constraint', `Too many upload requests; at most ${this.settings.slots_per_minute} a minute.`, { type: 'wait', extra: x('retry', NS_UPLOAD, { stamp }) });
    }

    const request = parseSlotRequest(payload);
    this.checkSize(request);
    const refusal = refusalOf(request.contentType, this.settings);
    if (refusal) throw new StanzaError('not-acceptable', refusal, { type: 'modify' });
    await checkQuota(this.server.storage.uploads, this.settings, { host: from.domain, username: from.local }, request.size, now);
    return this.createSlot({ host: from.domain, username: from.local }, request, now);
  }

  private checkSize(request: SlotRequest): void {
    const max = this.settings.max_file_bytes;
    if (request.size <= max) return;
    const extra = x('file-too-large', NS_UPLOAD, {}, x('max-file-size', NS_UPLOAD, {}, String(max)));
    throw new StanzaError('not-acceptable', `File too large. The maximum file size is ${max} bytes.`, { type: 'modify', extra });
  }

  private async createSlot(owner: { host: string; username: string }, request: SlotRequest, now: number): Promise<Slot> {
    const id = randomBytes(18).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    await this.server.storage.uploads.createSlot({
      id,
      ...owner,
      filename: request.filename,
      size: request.size,
      contentType: request.contentType,
      secretHash: hashSecret(secret),
      createdAt: now,
      slotExpiresAt: now + this.settings.slot_lifetime_s * 1000,
    });
    this.log.debug({ owner: `${owner.username}@${owner.host}`, size: request.size, type: request.contentType }, 'upload slot created');
    const url = this.fileUrl(id, request.filename);
    return { putUrl: url, getUrl: url, authorization: `Bearer ${secret}` };
  }

  /** Builds the URL of a file: PUBLIC_URL/upload/SLOT/NAME. */
  fileUrl(id: string, filename: string): string {
    return `${this.publicBase()}${UPLOAD_PATH}${id}/${encodeURIComponent(filename)}`;
  }

  /** `upload.public_url`, else the HTTP listener on the domain, else the HTTPS one. */
  publicBase(): string {
    if (this.settings.public_url) return this.settings.public_url;
    const { domain, listen } = this.server.config;
    const http = this.listeners.http ?? (listen.http_port === false ? undefined : listen.http_port);
    if (http !== undefined) return `http://${domain}:${http}`;
    return `https://${domain}:${this.listeners.https ?? listen.https_port}`;
  }

  /** Deletes a file, its thumbnails and its row, in that order, so no file outlives its row. */
  async deleteUpload(id: string): Promise<void> {
    for (const fileId of [id, ...thumbnailIds(id)]) await this.store.delete(fileId);
    await this.server.storage.uploads.delete(id);
  }

  /** Deletes every file and slot of an account. */
  async deleteAccountUploads(host: string, username: string): Promise<number> {
    const ids = await this.server.storage.uploads.idsOfAccount(host, username);
    for (const id of ids) await this.deleteUpload(id);
    if (ids.length > 0) this.log.info({ owner: `${username}@${host}`, count: ids.length }, 'deleted the uploads of a deleted account');
    return ids.length;
  }

  /** Finds the stored file a GET names; the name must be the one of the slot. */
  async findStored(id: string, filename: string): Promise<UploadRecord | undefined> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const record = await this.server.storage.uploads.get(id);
    return record?.state === 'stored' && record.filename === filename ? record : undefined;
  }

  pruneRateLimit(): void {
    this.rateLimit.prune(this.clock.now());
  }

  private reply(event: StanzaEvent, stanza: Element): void {
    stanza.attrs.from = event.to.toString();
    stanza.attrs.to = event.from.toString();
    void this.server.router.route(stanza, event.to, event.from).catch((err: unknown) => this.log.error({ err }, 'sending an upload reply failed'));
  }
}

/** SHA-256 of a PUT secret, base64url: what the table stores instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

function slotElement(slot: Slot): Element {
  return x(
    'slot',
    NS_UPLOAD,
    {},
    x('put', NS_UPLOAD, { url: slot.putUrl }, x('header', NS_UPLOAD, { name: 'Authorization' }, slot.authorization)),
    x('get', NS_UPLOAD, { url: slot.getUrl }),
  );
}
