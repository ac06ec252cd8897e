import { Buffer, isUtf8 } from 'node:buffer';

import { XmlParseError } from './parser-error.js';

/**
 * Incremental UTF-8 decoder that rejects invalid input instead of repairing it to U+FFFD.
 *
 * A character split across chunks is held back until its last byte arrives, so every
 * returned string contains whole characters. Validation uses node:buffer isUtf8(), which
 * rejects overlong forms, encoded surrogates and code points above U+10FFFF.
 */
export class Utf8StreamDecoder {
  /** Bytes encoded by the string that the last decode() call returned. */
  byteLength = 0;
  /** The error of the last chunk when it had invalid UTF-8, in which case decode() returned only the text before it. */
  error: XmlParseError | null = null;

  private readonly pending = new Uint8Array(4);
  private pendingLength = 0;
  private pendingTotal = 0;

  /** Decodes the next chunk, up to the first invalid sequence if there is one. */
  decode(chunk: Uint8Array): string {
    this.byteLength = 0;
    this.error = null;
    let start = 0;
    let head = '';
    if (this.pendingLength > 0) {
      start = this.fillPending(chunk);
      if (this.error !== null || this.pendingLength < this.pendingTotal) return '';
      head = this.takePending();
      if (this.error !== null) return '';
    }

    const end = completeSequencesEnd(chunk, start);
    const view = Buffer.from(chunk.buffer, chunk.byteOffset + start, end - start);
    if (!isUtf8(view)) return head + this.decodeValidPrefix(view);
    for (let i = end; i < chunk.length; i++) this.pending[this.pendingLength++] = chunk[i] ?? 0;
    if (this.pendingLength > 0) this.pendingTotal = sequenceLength(this.pending[0] ?? 0);

    this.byteLength += view.length;
    const body = view.toString('utf8');
    return head === '' ? body : head + body;
  }

  /** Drops a partial character, for a stream restart. */
  reset(): void {
    this.pendingLength = 0;
    this.pendingTotal = 0;
    this.byteLength = 0;
    this.error = null;
  }

  /** Appends continuation bytes of the held-back character. Returns the index after them. */
  private fillPending(chunk: Uint8Array): number {
    let i = 0;
    while (this.pendingLength < this.pendingTotal && i < chunk.length) {
      const byte = chunk[i++] ?? 0;
      if ((byte & 0xc0) !== 0x80) {
        this.error = invalidUtf8();
        return i;
      }
      this.pending[this.pendingLength++] = byte;
    }
    return i;
  }

  private takePending(): string {
    const bytes = this.pending.subarray(0, this.pendingLength);
    this.pendingLength = 0;
    this.pendingTotal = 0;
    if (!isUtf8(bytes)) {
      this.error = invalidUtf8();
      return '';
    }
    this.byteLength += bytes.length;
    return Buffer.from(bytes).toString('utf8');
  }

  private decodeValidPrefix(view: Buffer): string {
    this.error = invalidUtf8();
    this.pendingLength = 0;
    const length = validPrefixLength(view);
    this.byteLength += length;
    return view.toString('utf8', 0, length);
  }
}

/** Returns the byte length of the sequence that `lead` starts, or 1 for a byte that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** Returns the index after the last complete sequence in chunk[start..], cutting off a split character. */
function completeSequencesEnd(chunk: Uint8Array, start: number): number {
  const end = chunk.length;
  const stop = Math.max(start, end - 3);
  for (let i = end - 1; i >= stop; i--) {
    const byte = chunk[i] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    return i + sequenceLength(byte) > end ? i : end;
  }
  return end;
}

/**
 * Returns the length of the longest valid UTF-8 prefix of `bytes`, following the table of
 * well-formed byte sequences in the Unicode Standard (section 3.9, table 3-7).
 */
function validPrefixLength(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const trailing = sequenceLength(lead) - 1;
    if (trailing === 0 || i + trailing >= n) return i;
    const second = bytes[i + 1] ?? 0;
    if (second < secondByteMin(lead) || second > secondByteMax(lead)) return i;
    for (let k = 2; k <= trailing; k++) {
      if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    }
    i += trailing + 1;
  }
  return n;
}

/** Returns the lowest second byte after `lead`, which excludes overlong forms. */
function secondByteMin(lead: number): number {
  if (lead === 0xe0) return 0xa0;
  if (lead === 0xf0) return 0x90;
  return 0x80;
}

/** Returns the highest second byte after `lead`, which excludes surrogates and code points above U+10FFFF. */
function secondByteMax(lead: number): number {
  if (lead === 0xed) return 0x9f;
  if (lead === 0xf4) return 0x8f;
  return 0xbf;
}

function invalidUtf8(): XmlParseError {
  return new XmlParseError('unsupported-encoding', 'Invalid UTF-8 byte sequence in the stream');
}
