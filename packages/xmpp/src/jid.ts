import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { PrecisError, StringClass, formatCodePoint, opaqueString, usernameCaseMapped } from './precis.js';

/** A malformed XMPP address. The server replies to it with a jid-malformed error. */
export class JidError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'JidError';
  }
}

// RFC 7622 section 3.1: each part is 1 to 1023 bytes in UTF-8 after preparation.
const MAX_PART_BYTES = 1023;
// Preparation never shrinks a part below a third of its UTF-16 length, so longer raw
// input cannot fit. Rejecting it before preparation bounds the work on hostile input.
const MAX_RAW_LENGTH = 3 * MAX_PART_BYTES;

// Printable ASCII without the characters RFC 7622 section 3.3.1 excludes: " & ' / : < > @
const RE_ASCII_LOCAL = /^[\x21\x23-\x25\x28-\x2e\x30-\x39\x3b\x3d\x3f\x41-\x7e]+$/;
const RE_EXCLUDED_LOCAL = /["&'/:<>@]/;
const RE_ASCII_DOMAIN = /^[A-Za-z0-9.-]+$/;
const RE_LDH_CHAR = /[a-z0-9-]/;
// Labels of 1 to 63 letters, digits and inner hyphens, separated by dots.
const RE_HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const RE_PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const RE_NON_ASCII = /[\u0080-\uffff]/;
// Label separators that UTS #46 maps to FULL STOP; only used on non-ASCII names.
const RE_IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;

/** Checks the length of a prepared part. With `ascii` set, the UTF-16 length is the byte count. */
function checkLength(prepared: string, part: string, ascii = false): string {
  if (prepared.length === 0) throw new JidError(`empty ${part}`);
  const bytes = ascii ? prepared.length : Buffer.byteLength(prepared, 'utf8');
  if (bytes > MAX_PART_BYTES) throw new JidError(`${part} longer than ${MAX_PART_BYTES} bytes`);
  return prepared;
}

function checkRawLength(raw: string, part: string): void {
  if (raw.length === 0) throw new JidError(`empty ${part}`);
  if (raw.length > MAX_RAW_LENGTH) throw new JidError(`${part} longer than ${MAX_PART_BYTES} bytes`);
}

function applyProfile(raw: string, part: string, profile: (s: string) => string): string {
  try {
    return profile(raw);
  } catch (error) {
    if (error instanceof PrecisError) throw new JidError(`${part}: ${error.message}`);
    throw error;
  }
}

/** Prepares a localpart: UsernameCaseMapped plus the exclusions of RFC 7622 section 3.3.1. */
function prepareLocal(raw: string): string {
  checkRawLength(raw, 'localpart');
  if (RE_ASCII_LOCAL.test(raw)) return checkLength(raw.toLowerCase(), 'localpart', true);

  const prepared = applyProfile(raw, 'localpart', usernameCaseMapped);
  const excluded = RE_EXCLUDED_LOCAL.exec(prepared);
  if (excluded) {
    const cp = excluded[0].charCodeAt(0);
    throw new JidError(`localpart: ${formatCodePoint(cp)} is excluded by RFC 7622 section 3.3.1`);
  }
  return checkLength(prepared, 'localpart');
}

/** Prepares a resourcepart with the OpaqueString profile (RFC 7622 section 3.4). */
function prepareResource(raw: string): string {
  checkRawLength(raw, 'resourcepart');
  if (RE_PRINTABLE_ASCII.test(raw)) return checkLength(raw, 'resourcepart', true);
  return checkLength(applyProfile(raw, 'resourcepart', opaqueString), 'resourcepart');
}

/**
 * Prepares a domainpart (RFC 7622 section 3.2): an IP literal, or a host name with
 * one trailing dot removed and its letters lowercased.
 */
function prepareDomain(raw: string): string {
  checkRawLength(raw, 'domainpart');
  if (raw.startsWith('[')) return prepareIpv6(raw);

  let name = RE_NON_ASCII.test(raw) ? raw.replace(RE_IDEOGRAPHIC_DOTS, '.') : raw;
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (RE_HOST_NAME.test(name)) {
    name = name.toLowerCase();
    // A top-level label is never all digits (RFC 3696 section 2), so a final digit means IPv4.
    if (isDigit(name.charCodeAt(name.length - 1))) return prepareIpv4(name);
    if (!name.includes('xn--')) return checkLength(name, 'domainpart', true);
  } else if (RE_ASCII_DOMAIN.test(name)) {
    throwAsciiLabelError(name);
  }

  // RFC 7622 section 3.2.1: A-labels are converted to U-labels.
  if (name.toLowerCase().includes('xn--')) name = domainToUnicode(name);
  if (name === '') throw new JidError('domainpart: invalid A-label');
  return checkLength(prepareInternationalDomain(name), 'domainpart');
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function prepareIpv6(raw: string): string {
  const inner = raw.endsWith(']') ? raw.slice(1, -1) : '';
  if (!isIPv6(inner) || inner.includes('%')) throw new JidError('domainpart: invalid IPv6 literal');
  return `[${inner.toLowerCase()}]`;
}

function prepareIpv4(name: string): string {
  if (!isIPv4(name)) throw new JidError('domainpart: invalid IPv4 address');
  return name;
}

/** Names what is wrong with an ASCII name that RE_HOST_NAME rejected. */
function throwAsciiLabelError(name: string): never {
  for (const label of name.split('.')) {
    if (label.length === 0) throw new JidError('domainpart: empty label');
    if (label.length > 63) throw new JidError('domainpart: label longer than 63 characters');
  }
  throw new JidError('domainpart: a label starts or ends with a hyphen');
}

/**
 * NOTE: this is not a full IDNA2008 check (RFC 5891). prepareDomain has already
 * mapped ideographic full stops to '.', and here the name gets NFC and lower case.
 * Each label must then pass the IdentifierClass, its ASCII characters must be
 * letters, digits and inner hyphens, and its A-label (from url.domainToASCII) must
 * be at most 63 characters. The IDNA Bidi Rule and the stricter IDNA2008 code point
 * table are not applied.
 */
function prepareInternationalDomain(raw: string): string {
  const name = raw.normalize('NFC').toLowerCase();
  for (const label of name.split('.')) checkInternationalLabel(label);
  return name;
}

function checkInternationalLabel(label: string): void {
  if (label.length === 0) throw new JidError('domainpart: empty label');
  if (label.startsWith('-') || label.endsWith('-')) {
    throw new JidError(`domainpart: label "${label}" starts or ends with a hyphen`);
  }
  for (const ch of label) {
    if (ch < '\x80' && !RE_LDH_CHAR.test(ch)) {
      throw new JidError(`domainpart: ${formatCodePoint(ch.charCodeAt(0))} is not allowed in a host name`);
    }
  }
  applyProfile(label, 'domainpart', (s) => {
    StringClass.IDENTIFIER.enforce(s);
    return s;
  });
  const aLabel = domainToASCII(label);
  if (aLabel === '' || aLabel.length > 63) throw new JidError(`domainpart: label "${label}" is not a valid IDN label`);
}

/** An XMPP address (RFC 7622). Parts are prepared; an absent part is ''. */
export class JID {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  private text: string | undefined;

  private constructor(local: string, domain: string, resource: string) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  /**
   * Parses and prepares an address; throws JidError when it is malformed.
   * RFC 7622 section 3.2: the resourcepart starts after the first '/', and the
   * localpart ends at the first '@' before it.
   */
  static parse(s: string): JID {
    const slash = s.indexOf('/');
    const head = slash === -1 ? s : s.slice(0, slash);
    const at = head.indexOf('@');
    const local = at === -1 ? '' : prepareLocal(head.slice(0, at));
    const domain = prepareDomain(at === -1 ? head : head.slice(at + 1));
    const resource = slash === -1 ? '' : prepareResource(s.slice(slash + 1));
    return new JID(local, domain, resource);
  }

  /** Parses an address, or returns null when it is malformed. */
  static parseOrNull(s: string): JID | null {
    try {
      return JID.parse(s);
    } catch (error) {
      if (error instanceof JidError) return null;
      throw error;
    }
  }

  /** Builds an address from separate parts, preparing each; '' leaves a part out. */
  static fromParts(local: string, domain: string, resource = ''): JID {
    return new JID(
      local === '' ? '' : prepareLocal(local),
      prepareDomain(domain),
      resource === '' ? '' : prepareResource(resource),
    );
  }

  /** Returns the address without its resourcepart. */
  bare(): JID {
    return this.resource === '' ? this : new JID(this.local, this.domain, '');
  }

  /** Tells whether the address has no resourcepart. */
  isBare(): boolean {
    return this.resource === '';
  }

  /** Returns the same bare address with another resourcepart, prepared. */
  withResource(resource: string): JID {
    return new JID(this.local, this.domain, prepareResource(resource));
  }

  /** Compares the prepared parts, which is the comparison RFC 7622 section 3 requires. */
  equals(other: JID | null | undefined): boolean {
    if (!other) return false;
    return this.domain === other.domain && this.local === other.local && this.resource === other.resource;
  }

  /** Returns the address as written on the wire: local@domain/resource. */
  toString(): string {
    if (this.text === undefined) {
      const bare = this.local === '' ? this.domain : `${this.local}@${this.domain}`;
      this.text = this.resource === '' ? bare : `${bare}/${this.resource}`;
    }
    return this.text;
  }
}

/** Builds an address from its parts, preparing each; throws JidError. */
export function jid(local: string, domain: string, resource?: string): JID {
  return JID.fromParts(local, domain, resource);
}
