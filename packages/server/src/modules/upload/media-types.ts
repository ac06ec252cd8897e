/**
 * Media types of uploads: which a slot may announce, and how a download presents them.
 * Types in which browsers run scripts (HTML, SVG, XML with stylesheets, JavaScript) are
 * rejected by default. Whatever is stored, only images, audio and video are shown inline,
 * and every download carries a sandboxing Content-Security-Policy.
 */
import type { Config } from '../../config.js';

/** Assumed when a slot request has no content-type (XEP-0363 section 6). */
export const DEFAULT_TYPE = 'application/octet-stream';

const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\r\\n]*"))*$`);
const MAX_TYPE_LENGTH = 255;

/** Inline types that are still never shown inline, because they can carry scripts. */
const NEVER_INLINE = new Set(['image/svg+xml']);

/** Returns the type/subtype part, lower-cased, without parameters. */
export function essenceOf(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** Checks the syntax of a Content-Type value (RFC 9110 section 8.3.1). */
export function isValidMediaType(value: string): boolean {
  return value.length <= MAX_TYPE_LENGTH && MEDIA_TYPE.test(value);
}

/** Returns why the type is refused by `upload.deny_types` or `upload.allow_types`, or undefined when it is allowed. */
export function refusalOf(contentType: string, settings: Config['upload']): string | undefined {
  const essence = essenceOf(contentType);
  if (settings.deny_types.some((pattern) => matches(pattern, essence))) return `Files of type ${essence} are not accepted, because browsers run scripts in them.`;
  if (settings.allow_types.length > 0 && !settings.allow_types.some((pattern) => matches(pattern, essence))) return `Files of type ${essence} are not accepted here.`;
  return undefined;
}

/** True for types a browser shows in place rather than saving: images, audio and video. */
export function isInlineType(contentType: string): boolean {
  const essence = essenceOf(contentType);
  if (NEVER_INLINE.has(essence)) return false;
  return essence.startsWith('image/') || essence.startsWith('audio/') || essence.startsWith('video/');
}

function matches(pattern: string, essence: string): boolean {
  const lower = pattern.toLowerCase();
  return lower.endsWith('/*') ? essence.startsWith(lower.slice(0, -1)) : lower === essence;
}
