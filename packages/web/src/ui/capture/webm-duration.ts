/**
 * Writes the Duration element into a WebM file from MediaRecorder, which leaves it out
 * because it streams the file before it ends. Without it, players report an infinite length
 * and cannot seek. The element layout follows the Matroska specification (RFC 9559).
 */

const EBML_ID = 0x1a45dfa3;
const SEGMENT_ID = 0x18538067;
const SEEK_HEAD_ID = 0x114d9b74;
const INFO_ID = 0x1549a966;
const CLUSTER_ID = 0x1f43b675;
const TIMESTAMP_SCALE_ID = 0x2ad7b1;
const DURATION_ID = 0x4489;

/** The Matroska default: timestamps count nanoseconds times this scale, so 1 ms. */
const DEFAULT_TIMESTAMP_SCALE = 1_000_000;

/** An element's header: its ID, where its data starts, and its size (-1 for unknown). */
interface ElementHeader {
  id: number;
  start: number;
  dataStart: number;
  size: number;
}

/** Reads an EBML variable-length integer: its byte length, its value with the length marker and without. */
function readVint(bytes: Uint8Array, offset: number): { length: number; raw: number; value: number } | undefined {
  const first = bytes[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.length) return undefined;

  let raw = first;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = bytes[offset + i]!;
    raw = raw * 256 + byte;
    value = value * 256 + byte;
    if (byte !== 0xff) allOnes = false;
  }
  // A size with every value bit set means "unknown", as a streamed Segment has.
  return { length, raw, value: allOnes ? -1 : value };
}

function readHeader(bytes: Uint8Array, start: number): ElementHeader | undefined {
  const id = readVint(bytes, start);
  if (!id || id.length > 4) return undefined;
  const size = readVint(bytes, start + id.length);
  if (!size) return undefined;
  return { id: id.raw, start, dataStart: start + id.length + size.length, size: size.value };
}

function readUnsigned(bytes: Uint8Array, offset: number, length: number): number {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + bytes[offset + i]!;
  return value;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const result = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** Encodes a size as an 8-byte EBML variable-length integer. */
function encodeSize(size: number): Uint8Array {
  const bytes = new Uint8Array(8);
  bytes[0] = 0x01;
  let rest = size;
  for (let i = 7; i > 0; i--) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return bytes;
}

/**
 * Returns `bytes` with a Duration of `durationMs` in its Segment Info. It returns the input
 * unchanged when the file already has a Duration or has a layout this does not rewrite safely:
 * a Segment of known size or a SeekHead, whose byte positions the longer Info would shift.
 */
export function withWebmDuration(bytes: Uint8Array, durationMs: number): Uint8Array {
  const ebml = readHeader(bytes, 0);
  if (!ebml || ebml.id !== EBML_ID || ebml.size < 0) return bytes;
  const segment = readHeader(bytes, ebml.dataStart + ebml.size);
  // NOTE: a Segment of known size (Chromium 156 streams one of unknown size) is left without Duration.
  if (!segment || segment.id !== SEGMENT_ID || segment.size >= 0) return bytes;

  let offset = segment.dataStart;
  while (offset < bytes.length) {
    const child = readHeader(bytes, offset);
    if (!child || child.size < 0 || child.id === SEEK_HEAD_ID || child.id === CLUSTER_ID) return bytes;
    if (child.id === INFO_ID) return addDuration(bytes, child, durationMs);
    offset = child.dataStart + child.size;
  }
  return bytes;
}

function addDuration(bytes: Uint8Array, info: ElementHeader, durationMs: number): Uint8Array {
  const infoEnd = info.dataStart + info.size;
  if (infoEnd > bytes.length) return bytes;

  let scale = DEFAULT_TIMESTAMP_SCALE;
  for (let offset = info.dataStart; offset < infoEnd; ) {
    const child = readHeader(bytes, offset);
    if (!child || child.size < 0 || child.dataStart + child.size > infoEnd) return bytes;
    if (child.id === DURATION_ID) return bytes;
    if (child.id === TIMESTAMP_SCALE_ID) scale = readUnsigned(bytes, child.dataStart, child.size) || DEFAULT_TIMESTAMP_SCALE;
    offset = child.dataStart + child.size;
  }

  // Duration is a float in units of the timestamp scale (nanoseconds times the scale).
  const duration = new Uint8Array(11);
  duration.set([0x44, 0x89, 0x88]);
  new DataView(duration.buffer).setFloat64(3, (durationMs * 1_000_000) / scale);
  const content = concat(bytes.subarray(info.dataStart, infoEnd), duration);
  const header = concat(bytes.subarray(info.start, info.start + 4), encodeSize(content.length));
  return concat(bytes.subarray(0, info.start), header, content, bytes.subarray(infoEnd));
}

/** Returns a WebM Blob with its Duration written, or any other Blob as it is. */
export async function blobWithDuration(blob: Blob, durationMs: number): Promise<Blob> {
  if (!blob.type.startsWith('audio/webm') && !blob.type.startsWith('video/webm')) return blob;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const patched = withWebmDuration(bytes, durationMs);
  return patched === bytes ? blob : new Blob([patched as Uint8Array<ArrayBuffer>], { type: blob.type });
}
