import { describe, expect, it } from 'vitest';

import { deriveCredentials, verifyPassword } from './credentials.js';
import { SaslPrepError } from './errors.js';
import type { SaslPrepFailure } from './errors.js';
import { PlainServer } from './plain.js';
import { prepPassword, prepUsername } from './saslprep.js';

function failureOf(action: () => unknown): SaslPrepFailure | 'none' | 'other' {
  try {
    action();
    return 'none';
  } catch (error) {
    return error instanceof SaslPrepError ? error.failure : 'other';
  }
}

describe('prepPassword', () => {
  const mapped: [string, string, string][] = [
    ['ASCII', 'user', 'user'],
    ['soft hyphen', 'I\u00ADX', 'IX'],
    ['Roman numeral nine', '\u2168', 'IX'],
    ['NFD to NFC', 'cafe\u0301', 'caf\u00e9'],
    ['NFC unchanged', 'caf\u00e9', 'caf\u00e9'],
    ['Cyrillic and Han', 'пароль密码', 'пароль密码'],
    ['feminine ordinal', '\u00AA', 'a'],
    ['no-break space', 'pass\u00A0word', 'pass word'],
  ];

  it.each(mapped)('maps %s', (_name, input, expected) => {
    expect(prepPassword(input)).toBe(expected);
  });

  const rejected: [string, string, SaslPrepFailure][] = [
    ['line feed', 'pass\nword', 'prohibited'],
    ['control character', '\u0007', 'prohibited'],
    ['key emoji', '\u{1F511}secret', 'unassigned'],
    ['mixed bidi', '\u0627\u0031', 'bidi'],
    ['only a soft hyphen', '\u00AD', 'empty'],
    ['empty string', '', 'empty'],
  ];

  it.each(rejected)('rejects %s', (_name, input, failure) => {
    expect(failureOf(() => prepPassword(input))).toBe(failure);
  });

  it('keeps the password out of the message', () => {
    let message = '';
    try {
      prepPassword('hunter2\n');
    } catch (error) {
      message = error instanceof Error ? error.message : '';
    }
    expect(message).not.toContain('hunter2');
  });

  it('names the username field', () => {
    let message = '';
    try {
      prepUsername('jul\u0007iet');
    } catch (error) {
      message = error instanceof Error ? error.message : '';
    }
    expect(message).toMatch(/^The username /);
  });
});

describe('SASLprep at derivation and login', () => {
  const logins: [string, string, string, boolean][] = [
    ['soft hyphen', 'I\u00ADX', 'IX', true],
    ['Roman numeral nine', '\u2168', 'IX', true],
    ['NFC stored, NFD typed', 'caf\u00e9', 'cafe\u0301', true],
    ['NFD stored, NFC typed', 'cafe\u0301', 'caf\u00e9', true],
    ['Cyrillic and Han', 'пароль密码', 'пароль密码', true],
    ['Han alone', 'пароль密码', '密码', false],
  ];

  it.each(logins)('PLAIN login: %s', async (_name, stored, typed, succeeds) => {
    const credentials = await deriveCredentials(stored, { iterations: 4096 });
    for (const credential of credentials) {
      const server = new PlainServer({
        verify: async (_username, password) => ((await verifyPassword(password, credential)) ? 'ok' : 'wrong'),
      });
      const step = await server.start(Buffer.from(`\0juliet\0${typed}`, 'utf8'));
      expect(step.kind, credential.hash).toBe(succeeds ? 'success' : 'failure');
    }
  });

  it('rejects a line feed at derivation', async () => {
    await expect(deriveCredentials('pass\nword', { iterations: 4096 })).rejects.toBeInstanceOf(SaslPrepError);
  });

  it('rejects an emoji at derivation', async () => {
    await expect(deriveCredentials('\u{1F511}secret', { iterations: 4096 })).rejects.toThrow(/unassigned in Unicode 3\.2/);
  });
});
