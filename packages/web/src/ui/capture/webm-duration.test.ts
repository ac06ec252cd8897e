import { describe, expect, it } from 'vitest';
import { withWebmDuration } from './webm-duration.js';

/** Encodes an element with a 1-byte size (data under 127 bytes). */
function element(id: number[], data: number[]): number[] {
  return [...id, 0x80 | data.length, ...data];
}

const EBML = element([0x1a, 0x45, 0xdf, 0xa3], [0x42, 0x82, 0x84, ...Array.from('webm', (c) => c.charCodeAt(0))]);
const UNKNOWN_SIZE = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const SEGMENT_ID = [0x18, 0x53, 0x80, 0x67];
const TIMESTAMP_SCALE = element([0x2a, 0xd7, 0xb1], [0x0f, 0x42, 0x40]);
const MUXING_APP = element([0x4d, 0x80], Array.from('Chrome', (c) => c.charCodeAt(0)));
const TRACKS = element([0x16, 0x54, 0xae, 0x6b], [0xae, 0x80]);
const CLUSTER = [0x1f, 0x43, 0xb6, 0x75, ...UNKNOWN_SIZE, 0xe7, 0x81, 0x00];

/** Builds a file shaped like Chromium's MediaRecorder output: a streamed Segment whose Info has no Duration. */
function recorderFile(info: number[] = [...TIMESTAMP_SCALE, ...MUXING_APP], extra: number[] = []): Uint8Array {
  return Uint8Array.from([...EBML, ...SEGMENT_ID, ...UNKNOWN_SIZE, ...extra, ...element([0x15, 0x49, 0xa9, 0x66], info), ...TRACKS, ...CLUSTER]);
}

/** Finds the Duration element after the Info header and reads its float. */
function readDuration(bytes: Uint8Array): number | undefined {
  for (let i = 0; i + 11 <= bytes.length; i++) {
    if (bytes[i] === 0x44 && bytes[i + 1] === 0x89 && bytes[i + 2] === 0x88) return new DataView(bytes.buffer, bytes.byteOffset + i + 3, 8).getFloat64(0);
  }
  return undefined;
}

describe('WebM duration', () => {
  it('adds the duration to the Info', () => {
    const input = recorderFile();
    const output = withWebmDuration(input, 2_345);
    expect(output.length).toBe(input.length + 11 + 7);
    expect(readDuration(output)).toBe(2_345);
  });

  it('rewrites the Info size', () => {
    const output = withWebmDuration(recorderFile(), 2_345);
    const infoAt = EBML.length + SEGMENT_ID.length + UNKNOWN_SIZE.length;
    expect([...output.subarray(infoAt, infoAt + 4)]).toEqual([0x15, 0x49, 0xa9, 0x66]);
    expect(output[infoAt + 4]).toBe(0x01);
    const size = output.subarray(infoAt + 5, infoAt + 12).reduce((value, byte) => value * 256 + byte, 0);
    expect(size).toBe(TIMESTAMP_SCALE.length + MUXING_APP.length + 11);
  });

  it('keeps what follows the Info', () => {
    const output = withWebmDuration(recorderFile(), 1_000);
    const tail = [...TRACKS, ...CLUSTER];
    expect([...output.subarray(output.length - tail.length)]).toEqual(tail);
  });

  it('honours the timestamp scale', () => {
    // A scale of 1,000,000,000 counts seconds.
    const seconds = element([0x2a, 0xd7, 0xb1], [0x3b, 0x9a, 0xca, 0x00]);
    expect(readDuration(withWebmDuration(recorderFile([...seconds, ...MUXING_APP]), 2_500))).toBe(2.5);
  });

  it('leaves a file with a duration alone', () => {
    const withDuration = [0x44, 0x89, 0x88, 0x40, 0, 0, 0, 0, 0, 0, 0];
    const input = recorderFile([...TIMESTAMP_SCALE, ...withDuration]);
    expect(withWebmDuration(input, 9_999)).toBe(input);
  });

  it('leaves a file with a SeekHead alone', () => {
    const input = recorderFile(undefined, element([0x11, 0x4d, 0x9b, 0x74], [0xec, 0x80]));
    expect(withWebmDuration(input, 1_000)).toBe(input);
  });

  it('leaves other bytes alone', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(withWebmDuration(png, 1_000)).toBe(png);
    expect(withWebmDuration(new Uint8Array(0), 1_000)).toHaveLength(0);
    expect(withWebmDuration(recorderFile().subarray(0, 30), 1_000)).toHaveLength(30);
  });
});
