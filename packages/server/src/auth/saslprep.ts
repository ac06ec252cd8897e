import saslprep from '@mongodb-js/saslprep';

import { SaslPrepError } from './errors.js';
import type { SaslPrepFailure, SaslPrepField } from './errors.js';

export { SaslPrepError } from './errors.js';

/**
 * Prepares a password with SASLprep (RFC 4013) for stored strings, so code points
 * unassigned in Unicode 3.2 (most emoji) are rejected. Account creation, password
 * change and login all call this, so a password accepted at creation always logs in.
 * Throws SaslPrepError.
 */
export function prepPassword(password: string): string {
  return prepare(password, 'password');
}

/** Prepares a SASL username (an XMPP localpart) with SASLprep for stored strings. Throws SaslPrepError. */
export function prepUsername(username: string): string {
  return prepare(username, 'username');
}

// RFC 3454 table B.1, the code point ranges SASLprep maps to nothing (RFC 4013 section 2.2).
const MAPPED_TO_NOTHING: readonly [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

function isMappedToNothing(character: string): boolean {
  const codePoint = character.codePointAt(0) ?? 0;
  return MAPPED_TO_NOTHING.some(([low, high]) => codePoint >= low && codePoint <= high);
}

function prepare(input: string, field: SaslPrepField): string {
  // @mongodb-js/saslprep 1.6 fails with a TypeError when mapping leaves nothing.
  if ([...input].every(isMappedToNothing)) throw new SaslPrepError(field, 'empty');

  try {
    return saslprep(input, { allowUnassigned: false });
  } catch (error) {
    throw new SaslPrepError(field, classify(error));
  }
}

// @mongodb-js/saslprep 1.6 throws plain Errors that differ only in their message.
function classify(error: unknown): SaslPrepFailure {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Unassigned code point')) return 'unassigned';
  if (message.includes('RandALCat')) return 'bidi';
  return 'prohibited';
}
