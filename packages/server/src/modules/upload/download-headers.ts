/** HTTP headers of downloads: Content-Disposition (RFC 6266 with RFC 8187 names), byte ranges (RFC 9110 section 14). */

/** Scripts, plugins, forms and frames are off in any document a download opens, whatever its type. */
export const DOWNLOAD_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/** Files never change under their URL. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Builds `inline` or `attachment` with the name twice: `filename="…"` with every character
 * outside printable ASCII (and quote, backslash, percent) as '_', for old clients, and
 * `filename*=UTF-8''…` percent-encoded, which current browsers prefer.
 */
export function contentDisposition(filename: string, inline: boolean): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The part of a file of `size` bytes that a Range header requests. */
export type RangeRequest = { kind: 'whole' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Reads a single `bytes=` range: `a-b`, `a-` or `-n`. A header that is malformed, names
 * another unit or several ranges is ignored (the whole file is sent, as RFC 9110 allows).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };

  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end };
}

/** True when an If-Range header lets the range apply: it names the current ETag or the exact Last-Modified date. */
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  return value === etag || value === lastModified;
}

/** True when an If-None-Match header lists the ETag (or is '*'). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}
