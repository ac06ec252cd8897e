import { describe, expect, it } from 'vitest';

import { contentDisposition, ifRangeHolds, noneMatch, parseRange } from './download-headers.js';

describe('parseRange', () => {
  it('reads first, middle, open and suffix ranges', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'range', start: 0, end: 9 });
    expect(parseRange('bytes=40-59', 100)).toEqual({ kind: 'range', start: 40, end: 59 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'range', start: 0, end: 99 });
  });

  it('finds unsatisfiable ranges', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve', () => {
    for (const header of [undefined, 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-2', 'bytes=-', 'bytes=a-b']) expect(parseRange(header, 100), String(header)).toEqual({ kind: 'whole' });
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact name percent-encoded', () => {
    expect(contentDisposition('报告 2026.pdf', false)).toBe(`attachment; filename="__ 2026.pdf"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%202026.pdf`);
    expect(contentDisposition(`a "quoted" (1)'s 5%.png`, true)).toBe(`inline; filename="a _quoted_ (1)'s 5_.png"; filename*=UTF-8''a%20%22quoted%22%20%281%29%27s%205%25.png`);
  });
});

describe('conditional headers', () => {
  it('matches If-Range and If-None-Match', () => {
    expect(ifRangeHolds(undefined, '"x"', 'date')).toBe(true);
    expect(ifRangeHolds('"x"', '"x"', 'date')).toBe(true);
    expect(ifRangeHolds('date', '"x"', 'date')).toBe(true);
    expect(ifRangeHolds('"y"', '"x"', 'date')).toBe(false);
    expect(noneMatch('"a", "x"', '"x"')).toBe(true);
    expect(noneMatch('W/"x"', '"x"')).toBe(true);
    expect(noneMatch('*', '"x"')).toBe(true);
    expect(noneMatch('"y"', '"x"')).toBe(false);
  });
});
