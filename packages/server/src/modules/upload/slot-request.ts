/** Reading and checking a slot request (XEP-0363 section 4): file name, size and content type. */
import { type Element, StanzaError } from '@parley/xmpp';
import { DEFAULT_TYPE, isValidMediaType } from './media-types.js';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';

/** Maximum file name length in UTF-8 bytes, the limit of ext4, NTFS and APFS names. */
export const MAX_FILENAME_BYTES = 255;

/** Control characters, and the bidirectional controls that can disguise a file's extension. */
const FORBIDDEN_CHARACTERS = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export interface SlotRequest {
  filename: string;
  size: number;
  contentType: string;
}

/** Parses `<request filename size content-type/>`; throws bad-request naming what is wrong. */
export function parseSlotRequest(request: Element): SlotRequest {
  const filename = request.attr('filename');
  const size = request.attr('size');
  const contentType = request.attr('content-type');

  if (filename === undefined) throw new StanzaError('bad-request', 'The request has no filename attribute.');
  const problem = filenameProblem(filename);
  if (problem) throw new StanzaError('bad-request', problem);

  if (size === undefined || !/^\d{1,15}$/.test(size)) throw new StanzaError('bad-request', 'The size attribute must be a number of bytes.');
  if (contentType !== undefined && !isValidMediaType(contentType)) throw new StanzaError('bad-request', 'The content-type attribute is not a valid media type.');
  return { filename, size: Number(size), contentType: contentType ?? DEFAULT_TYPE };
}

/** Returns why a file name is refused, or undefined when it is fine. */
export function filenameProblem(filename: string): string | undefined {
  if (filename === '' || filename.trim() === '') return 'The file name is empty.';
  if (filename === '.' || filename === '..') return 'The file name may not be "." or "..".';
  if (filename.includes('/') || filename.includes('\\')) return 'The file name may not contain "/" or "\\".';
  if (FORBIDDEN_CHARACTERS.test(filename)) return 'The file name contains control characters.';
  if (Buffer.byteLength(filename, 'utf8') > MAX_FILENAME_BYTES) return `The file name is longer than ${MAX_FILENAME_BYTES} bytes.`;
  return undefined;
}
