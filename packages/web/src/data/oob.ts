import { x, type XElement } from '../xmpp/index.js';
import type { Attachment, AttachmentPurpose } from './attachment-types.js';

/**
 * Files in messages: XEP-0066 out-of-band data (`jabber:x:oob`, what most clients send with a
 * body that is the URL) and XEP-0447 stateless file sharing with XEP-0446 file metadata.
 */
export const FILE_NS = {
  OOB: 'jabber:x:oob',
  SFS: 'urn:xmpp:sfs:0',
  FILE: 'urn:xmpp:file:metadata:0',
  URL_DATA: 'http://jabber.org/protocol/url-data',
} as const;

const MAX_NAME_LENGTH = 255;
const MAX_URL_LENGTH = 4096;
/** Pixel sizes beyond this are not real pictures and would break the layout. */
const MAX_DIMENSION = 100_000;

const TYPES_BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif',
  mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', m4v: 'video/mp4',
  m4a: 'audio/mp4', mp3: 'audio/mpeg', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', wav: 'audio/wav', aac: 'audio/aac',
  pdf: 'application/pdf', txt: 'text/plain', zip: 'application/zip',
};

/** Builds the elements that announce an uploaded file: OOB for every client, and file-sharing with metadata for clients that read it. */
export function attachmentElements(attachment: Attachment): XElement[] {
  const file = x('file', FILE_NS.FILE);
  if (attachment.type) file.append(x('media-type', FILE_NS.FILE, {}, attachment.type));
  file.append(x('name', FILE_NS.FILE, {}, attachment.name));
  if (attachment.size !== undefined) file.append(x('size', FILE_NS.FILE, {}, String(attachment.size)));
  if (attachment.width !== undefined) file.append(x('width', FILE_NS.FILE, {}, String(attachment.width)));
  if (attachment.height !== undefined) file.append(x('height', FILE_NS.FILE, {}, String(attachment.height)));
  if (attachment.durationMs !== undefined) file.append(x('length', FILE_NS.FILE, {}, String(Math.round(attachment.durationMs))));

  const purpose = attachment.purpose ?? purposeOf(attachment.type);
  const sharing = x(
    'file-sharing',
    FILE_NS.SFS,
    { disposition: purpose === 'file' ? 'attachment' : 'inline' },
    file,
    x('sources', FILE_NS.SFS, {}, x('url-data', FILE_NS.URL_DATA, { target: attachment.url })),
  );
  return [x('x', FILE_NS.OOB, {}, x('url', FILE_NS.OOB, {}, attachment.url)), sharing];
}

/** Reads the file a message carries, from file-sharing first, then OOB. Returns undefined when there is none or it is malformed. */
export function readAttachment(stanza: XElement): Attachment | undefined {
  return fromFileSharing(stanza) ?? fromOob(stanza);
}

/** Returns how a file of this MIME type is shown. Audio counts as a voice message, because that is what chat clients send as audio. */
export function purposeOf(type: string | undefined): AttachmentPurpose {
  if (type?.startsWith('image/')) return 'image';
  if (type?.startsWith('video/')) return 'video';
  if (type?.startsWith('audio/')) return 'voice';
  return 'file';
}

/** Guesses a MIME type from a file name's extension. */
export function typeFromName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : TYPES_BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

function fromFileSharing(stanza: XElement): Attachment | undefined {
  for (const sharing of stanza.getChildren('file-sharing', FILE_NS.SFS)) {
    const sources = sharing.getChild('sources', FILE_NS.SFS)?.getChildren('url-data', FILE_NS.URL_DATA) ?? [];
    const url = sources.map((source) => safeUrl(source.attr('target'))).find((target) => target !== undefined);
    const file = sharing.getChild('file', FILE_NS.FILE);
    if (!url || !file) continue;

    const type = cleanType(file.getChildText('media-type', FILE_NS.FILE));
    const name = cleanName(file.getChildText('name', FILE_NS.FILE)) ?? nameFromUrl(url);
    const attachment: Attachment = { url, name, purpose: purposeOf(type ?? typeFromName(name)) };
    const guessed = type ?? typeFromName(name);
    if (guessed) attachment.type = guessed;
    assignNumber(attachment, 'size', file.getChildText('size', FILE_NS.FILE), Number.MAX_SAFE_INTEGER);
    assignNumber(attachment, 'width', file.getChildText('width', FILE_NS.FILE), MAX_DIMENSION);
    assignNumber(attachment, 'height', file.getChildText('height', FILE_NS.FILE), MAX_DIMENSION);
    assignNumber(attachment, 'durationMs', file.getChildText('length', FILE_NS.FILE), Number.MAX_SAFE_INTEGER);
    return attachment;
  }
  return undefined;
}

function fromOob(stanza: XElement): Attachment | undefined {
  for (const oob of stanza.getChildren('x', FILE_NS.OOB)) {
    const url = safeUrl(oob.getChildText('url', FILE_NS.OOB));
    if (!url) continue;
    const name = nameFromUrl(url);
    const type = typeFromName(name);
    const attachment: Attachment = { url, name, purpose: purposeOf(type) };
    if (type) attachment.type = type;
    return attachment;
  }
  return undefined;
}

/** Returns the URL when it is http(s), because only those become links and images. Anything else (javascript:, data:) is ignored. */
function safeUrl(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed || trimmed.length > MAX_URL_LENGTH) return undefined;
  try {
    const url = new URL(trimmed);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function nameFromUrl(url: string): string {
  const segment = new URL(url).pathname.split('/').filter((part) => part !== '').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // A malformed escape keeps the segment as it is.
  }
  return cleanName(decoded) ?? 'file';
}

/** Drops control characters and path separators, and caps the length. */
function cleanName(name: string | undefined): string | undefined {
  const cleaned = name?.replace(/[\p{Cc}/\\]/gu, '').trim().slice(0, MAX_NAME_LENGTH);
  return cleaned ? cleaned : undefined;
}

function cleanType(type: string | undefined): string | undefined {
  const cleaned = type?.trim().toLowerCase();
  return cleaned && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(cleaned) ? cleaned : undefined;
}

function assignNumber(target: Attachment, field: 'size' | 'width' | 'height' | 'durationMs', text: string | undefined, max: number): void {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return;
  const value = Number(text);
  if (Number.isSafeInteger(value) && value <= max) target[field] = value;
}
