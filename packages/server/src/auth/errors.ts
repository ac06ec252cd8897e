/** The SASLprep rule (RFC 4013) that a string failed. */
export type SaslPrepFailure = 'prohibited' | 'unassigned' | 'bidi' | 'empty';

/** The credential field a SASLprep check applies to, named in error messages. */
export type SaslPrepField = 'username' | 'password';

const MESSAGES: Record<SaslPrepFailure, string> = {
  prohibited: 'contains a character that SASLprep prohibits (RFC 4013 section 2.3), such as a control character or line feed',
  unassigned: 'contains a code point unassigned in Unicode 3.2 (RFC 4013 section 2.5), such as most emoji',
  bidi: 'mixes right-to-left and left-to-right characters as RFC 3454 section 6 forbids',
  empty: 'is empty after SASLprep',
};

/**
 * Error raised when a username or password fails SASLprep. The message names the
 * field and the rule and never contains the string itself.
 */
export class SaslPrepError extends Error {
  override readonly name = 'SaslPrepError';

  constructor(
    readonly field: SaslPrepField,
    readonly failure: SaslPrepFailure,
  ) {
    super(`The ${field} ${MESSAGES[failure]}; choose a different ${field}.`);
  }
}
