import { x, XmppStanzaError, type XElement, type XmppClientLike } from '../xmpp/index.js';
import type { UploadFailure } from './attachment-types.js';
import { NS } from './ns.js';

/** XEP-0363 HTTP File Upload: service discovery, slot requests and the PUT of the bytes. */
export const UPLOAD_NS = 'urn:xmpp:http:upload:0';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** Disco items queried before giving up, because a server lists a handful of services. */
const MAX_CANDIDATES = 20;
/** Headers a slot may request (XEP-0363 section 5). Other headers are dropped. */
const ALLOWED_HEADERS = new Set(['authorization', 'cookie', 'expires']);

export interface UploadService {
  jid: string;
  /** Max file size in bytes, when the service announces one. */
  maxFileSize?: number;
}

export interface UploadSlot {
  putUrl: string;
  getUrl: string;
  headers: Record<string, string>;
}

/** An upload that did not finish, with the reason the UI shows. */
export class UploadError extends Error {
  override name = 'UploadError';
  constructor(readonly failure: UploadFailure, readonly maxFileSize?: number) {
    super(`upload failed: ${failure}`);
  }
}

/** Finds the upload service among the domain's disco#items, or undefined when there is none. */
export async function discoverUploadService(client: XmppClientLike): Promise<UploadService | undefined> {
  const domain = client.bareJid.split('@').pop() ?? '';
  const items = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: domain }, x('query', DISCO_ITEMS)));
  const jids = (items.getChild('query', DISCO_ITEMS)?.getChildren('item', DISCO_ITEMS) ?? [])
    .map((item) => item.attr('jid') ?? '')
    .filter((jid) => jid !== '')
    .slice(0, MAX_CANDIDATES);
  for (const jid of [...jids, domain]) {
    const info = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: jid }, x('query', DISCO_INFO)), 10_000).catch(() => undefined);
    const service = readServiceInfo(jid, info);
    if (service) return service;
  }
  return undefined;
}

/** Reads a disco#info result: the upload feature and the max-file-size field of its form (XEP-0363 section 3). */
export function readServiceInfo(jid: string, info: XElement | undefined): UploadService | undefined {
  const query = info?.getChild('query', DISCO_INFO);
  const features = query?.getChildren('feature', DISCO_INFO) ?? [];
  if (!features.some((feature) => feature.attr('var') === UPLOAD_NS)) return undefined;

  const service: UploadService = { jid };
  for (const form of query?.getChildren('x', NS.DATA) ?? []) {
    const fields = form.getChildren('field', NS.DATA);
    const formType = fields.find((field) => field.attr('var') === 'FORM_TYPE')?.getChildText('value', NS.DATA);
    if (formType !== UPLOAD_NS) continue;
    const max = fields.find((field) => field.attr('var') === 'max-file-size')?.getChildText('value', NS.DATA);
    if (max !== undefined && /^\d+$/.test(max.trim())) service.maxFileSize = Number(max.trim());
  }
  return service;
}

/** Requests a slot from the service. A rejection becomes an UploadError with the reason. */
export async function requestSlot(client: XmppClientLike, service: string, file: { name: string; size: number; type: string }): Promise<UploadSlot> {
  const request = x('request', UPLOAD_NS, { filename: file.name, size: file.size, 'content-type': file.type || 'application/octet-stream' });
  let reply: XElement;
  try {
    reply = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: service }, request));
  } catch (err) {
    throw slotError(err);
  }
  const slot = readSlot(reply);
  if (!slot) throw new UploadError('server');
  return slot;
}

/** Reads `<slot><put url><header/></put><get url/></slot>`. Both URLs must be http(s). */
export function readSlot(reply: XElement): UploadSlot | undefined {
  const slot = reply.getChild('slot', UPLOAD_NS);
  const put = slot?.getChild('put', UPLOAD_NS);
  const putUrl = httpUrl(put?.attr('url'));
  const getUrl = httpUrl(slot?.getChild('get', UPLOAD_NS)?.attr('url'));
  if (!put || !putUrl || !getUrl) return undefined;
  const headers: Record<string, string> = {};
  for (const header of put.getChildren('header', UPLOAD_NS)) {
    const name = header.attr('name') ?? '';
    const value = header.text().replace(/[\r\n]/g, '');
    if (ALLOWED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  return { putUrl, getUrl, headers };
}

/** Maps a slot request error to the reason the UI shows (XEP-0363 section 4). */
export function slotError(err: unknown): UploadError {
  if (!(err instanceof XmppStanzaError)) return new UploadError('network');
  const error = err.stanza.getChild('error');
  const tooLarge = error?.getChild('file-too-large', UPLOAD_NS);
  if (tooLarge) {
    const max = tooLarge.getChildText('max-file-size', UPLOAD_NS)?.trim();
    return new UploadError('too-large', max && /^\d+$/.test(max) ? Number(max) : undefined);
  }
  // Parley returns resource-constraint for a full quota while expiring files will free space, else not-allowed.
  if (['resource-constraint', 'policy-violation', 'not-allowed'].includes(err.condition)) return new UploadError('quota');
  if (err.condition === 'not-acceptable') return new UploadError('refused-type');
  if (err.condition === 'service-unavailable' || err.condition === 'feature-not-implemented') return new UploadError('no-service');
  return new UploadError('server');
}

/** Maps an HTTP status of the PUT to a reason. */
export function putFailure(status: number): UploadFailure {
  if (status === 0) return 'network';
  if (status === 413) return 'too-large';
  if (status === 415) return 'refused-type';
  if (status === 429 || status === 507) return 'quota';
  return 'server';
}

export interface PutHandle {
  done: Promise<void>;
  abort(): void;
}

/** PUTs the bytes with XMLHttpRequest, because fetch reports no upload progress. `abort` cancels the request. */
export function putFile(slot: UploadSlot, file: Blob, type: string, onProgress: (fraction: number) => void): PutHandle {
  const request = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    request.open('PUT', slot.putUrl);
    for (const [name, value] of Object.entries(slot.headers)) request.setRequestHeader(name, value);
    request.setRequestHeader('Content-Type', type || 'application/octet-stream');
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => (request.status >= 200 && request.status < 300 ? resolve() : reject(new UploadError(putFailure(request.status))));
    request.onerror = () => reject(new UploadError('network'));
    request.ontimeout = () => reject(new UploadError('network'));
    request.onabort = () => reject(new UploadError('cancelled'));
    request.send(file);
  });
  return { done, abort: () => request.abort() };
}

function httpUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the error for a file over the service's max size, checked before any request. */
export function checkSize(size: number, service: UploadService | undefined): UploadError | undefined {
  if (service?.maxFileSize !== undefined && size > service.maxFileSize) return new UploadError('too-large', service.maxFileSize);
  return undefined;
}
