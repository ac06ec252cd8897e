import { createHash } from 'node:crypto';

import { AccountError, prepareUsername } from '../accounts.js';
import { invalidField } from '../admin/problem.js';
import { LegacyHashError, parseLegacyHash } from '../auth/legacy-hash.js';
import { SaslPrepError, prepPassword } from '../auth/saslprep.js';
import type { Config } from '../config.js';

/** Avatar image types an account may have. */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

/** Largest avatar image accepted, in bytes. */
export const MAX_AVATAR_BYTES = 256 * 1024;

/** Maximum length of an external id, display name, title or department name, in characters. */
const MAX_TEXT_CHARS = 256;
/** Maximum length of a department or group id, in characters. */
export const MAX_GROUP_ID_CHARS = 128;
/** Most groups one account may be put in with one request. */
const MAX_GROUPS = 1000;
/** Maximum password length, in characters. */
const MAX_PASSWORD_CHARS = 1024;
/** RFC 5321 limits an address to 254 octets in practice (a 256-octet path minus the angle brackets). */
const MAX_EMAIL_BYTES = 254;

/** Account fields for `upsertAccount`; an absent field stays as it is, null clears it. */
export interface AccountInput {
  /** Required on create unless the external id is a valid username; immutable afterwards. */
  username?: string;
  externalId?: string | null;
  displayName?: string | null;
  email?: string | null;
  phone?: string | null;
  title?: string | null;
  /** Department id; an unknown id is created with `departmentName` or the id as its name. */
  department?: string | null;
  departmentName?: string;
  /** Ids of groups of kind 'group'; replaces the account's memberships in such groups. */
  groups?: string[];
  avatar?: { type: string; data: Buffer } | null;
  /** Plain password, stored as SCRAM keys. */
  password?: string;
  /** Password hash from another system (bcrypt, argon2id, PBKDF2-SHA256, salted SHA-256). */
  passwordHash?: string;
  disabled?: boolean;
}

/** An avatar that passed validation, with its hex SHA-1. */
export interface ValidAvatar {
  type: string;
  data: Buffer;
  sha1: string;
}

/** Input after validation: usernames prepared, text normalized, empty text turned into null. */
export interface ValidAccountInput extends Omit<AccountInput, 'avatar' | 'passwordHash'> {
  avatar?: ValidAvatar | null;
  /** The normalized legacy hash, as stored in `accounts.legacy_hash`. */
  legacyHash?: string;
}

/** Input keys whose text values are optional profile fields. */
const PROFILE_TEXT_FIELDS = ['externalId', 'displayName', 'title'] as const;

/**
 * Checks every field of `input` and returns the normalized values. Throws an ApiProblem
 * (400) whose `field` is the input key at fault, before anything is written.
 */
export function validateAccountInput(input: AccountInput, config: Config): ValidAccountInput {
  const valid: ValidAccountInput = {};

  if (input.username !== undefined) valid.username = validUsername(input.username, config.domain);
  for (const key of PROFILE_TEXT_FIELDS) {
    const value = input[key];
    if (value !== undefined) valid[key] = optionalText(key, value, MAX_TEXT_CHARS);
  }
  if (input.email !== undefined) valid.email = validEmail(input.email);
  if (input.phone !== undefined) valid.phone = validPhone(input.phone);
  if (input.department !== undefined) valid.department = input.department === null ? null : validGroupId('department', input.department);
  if (input.departmentName !== undefined) {
    const name = optionalText('departmentName', input.departmentName, MAX_TEXT_CHARS);
    if (name !== null) valid.departmentName = name;
  }
  if (input.groups !== undefined) valid.groups = validGroupIds(input.groups);
  if (input.avatar !== undefined) valid.avatar = input.avatar === null ? null : validAvatar(input.avatar);
  if (input.password !== undefined && input.passwordHash !== undefined) {
    throw invalidField('passwordHash', 'Give either a password or a password hash, not both.');
  }
  if (input.password !== undefined) valid.password = validPassword(input.password, config.registration.min_password_length);
  if (input.passwordHash !== undefined) valid.legacyHash = validLegacyHash(input.passwordHash);
  if (input.disabled !== undefined) {
    if (typeof input.disabled !== 'boolean') throw invalidField('disabled', 'Must be true or false.');
    valid.disabled = input.disabled;
  }
  return valid;
}

/** Prepares a username (UsernameCaseMapped, RFC 8265) or throws a 400 problem for `field`. */
export function validUsername(username: string, domain: string, field = 'username'): string {
  if (typeof username !== 'string' || username === '') throw invalidField(field, 'A username is required.');
  try {
    return prepareUsername(username, domain);
  } catch (err) {
    if (err instanceof AccountError) throw invalidField(field, err.message);
    throw err;
  }
}

/** Checks a department or group id: 1 to 128 characters without control characters. */
export function validGroupId(field: string, id: unknown): string {
  if (typeof id !== 'string' || id === '') throw invalidField(field, 'An id is required.');
  if ([...id].length > MAX_GROUP_ID_CHARS) throw invalidField(field, `An id has at most ${MAX_GROUP_ID_CHARS} characters.`);
  if (hasControlCharacters(id)) throw invalidField(field, 'An id must not contain control characters.');
  return id;
}

/** Normalizes optional text to NFC; an empty or blank string becomes null. */
export function optionalText(field: string, value: unknown, maxChars: number): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalidField(field, 'Must be a string or null.');
  const text = value.trim().normalize('NFC');
  if (text === '') return null;
  if ([...text].length > maxChars) throw invalidField(field, `Must have at most ${maxChars} characters.`);
  if (hasControlCharacters(text)) throw invalidField(field, 'Must not contain control characters.');
  return text;
}

function validEmail(value: unknown): string | null {
  const text = optionalText('email', value, MAX_EMAIL_BYTES);
  if (text === null) return null;
  if (Buffer.byteLength(text, 'utf8') > MAX_EMAIL_BYTES) throw invalidField('email', `An email address has at most ${MAX_EMAIL_BYTES} bytes.`);

  // A practical subset of RFC 5322 addr-spec: no spaces, one @, a dotted domain.
  const match = /^([^\s@"(),:;<>[\\\]]+)@([^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\].]+)$/u.exec(text);
  if (!match || match[1]!.startsWith('.') || match[1]!.endsWith('.') || match[1]!.includes('..') || match[2]!.includes('..')) {
    throw invalidField('email', `"${text}" is not a valid email address.`);
  }
  return `${match[1]}@${match[2]!.toLowerCase()}`;
}

function validPhone(value: unknown): string | null {
  const text = optionalText('phone', value, 32);
  if (text === null) return null;
  // International (E.164 with an optional +) or local numbers with common separators and an extension.
  if (!/^\+?[0-9][0-9 ()./-]*( ?(x|ext\.?) ?[0-9]{1,6})?$/i.test(text) || (text.match(/[0-9]/g) ?? []).length < 3) {
    throw invalidField('phone', `"${text}" is not a valid phone number: use digits, spaces, ( ) . / - and an optional leading +.`);
  }
  return text;
}

function validGroupIds(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidField('groups', 'Must be an array of group ids.');
  if (value.length > MAX_GROUPS) throw invalidField('groups', `At most ${MAX_GROUPS} groups are allowed.`);
  const ids = value.map((id, index) => validGroupId(`groups/${index}`, id));
  return [...new Set(ids)].sort();
}

function validAvatar(avatar: { type: unknown; data: unknown }): ValidAvatar {
  if (typeof avatar.type !== 'string' || !(AVATAR_TYPES as readonly string[]).includes(avatar.type)) {
    throw invalidField('avatar', `The avatar type must be one of ${AVATAR_TYPES.join(', ')}.`);
  }
  if (!Buffer.isBuffer(avatar.data) || avatar.data.length === 0) throw invalidField('avatar', 'The avatar image is empty.');
  if (avatar.data.length > MAX_AVATAR_BYTES) throw invalidField('avatar', `The avatar image has ${avatar.data.length} bytes; at most ${MAX_AVATAR_BYTES} are allowed.`);
  if (!hasImageSignature(avatar.type, avatar.data)) throw invalidField('avatar', `The avatar data is not a ${avatar.type} image.`);
  return { type: avatar.type, data: avatar.data, sha1: createHash('sha1').update(avatar.data).digest('hex') };
}

/** Checks the magic bytes at the start of an image file against its declared type. */
function hasImageSignature(type: string, data: Buffer): boolean {
  const starts = (bytes: number[], offset = 0) => bytes.every((byte, index) => data[offset + index] === byte);
  switch (type) {
    case 'image/png':
      return starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    case 'image/jpeg':
      return starts([0xff, 0xd8, 0xff]);
    case 'image/gif':
      return data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a';
    case 'image/webp':
      return data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP';
    default:
      return false;
  }
}

function validPassword(value: unknown, minimum: number): string {
  if (typeof value !== 'string') throw invalidField('password', 'Must be a string.');
  const length = [...value].length;
  if (length < minimum) throw invalidField('password', `The password must have at least ${minimum} characters.`);
  if (length > MAX_PASSWORD_CHARS) throw invalidField('password', `The password must have at most ${MAX_PASSWORD_CHARS} characters.`);
  try {
    prepPassword(value);
  } catch (err) {
    if (err instanceof SaslPrepError) throw invalidField('password', `The password is not allowed: ${err.message}`);
    throw err;
  }
  return value;
}

function validLegacyHash(value: unknown): string {
  if (typeof value !== 'string') throw invalidField('passwordHash', 'Must be a string.');
  try {
    return parseLegacyHash(value).encoded;
  } catch (err) {
    if (err instanceof LegacyHashError) throw invalidField('passwordHash', err.message);
    throw err;
  }
}

function hasControlCharacters(text: string): boolean {
  return /\p{Cc}/u.test(text);
}
