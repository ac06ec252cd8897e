import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { photoHash } from './photo.js';

const vcardWithPhoto = (binval: string) =>
  x('vCard', NS.VCARD, {}, x('PHOTO', NS.VCARD, {}, x('TYPE', NS.VCARD, {}, 'image/png'), x('BINVAL', NS.VCARD, {}, binval)));

describe('photoHash', () => {
  it('hashes the decoded image bytes', () => {
    // SHA-1 of the three bytes "abc" (RFC 3174 test case 1), base64 "YWJj".
    expect(photoHash(vcardWithPhoto('YWJj'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('ignores whitespace in BINVAL', () => {
    expect(photoHash(vcardWithPhoto('YW\r\n Jj\n'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('is empty without PHOTO', () => {
    expect(photoHash(x('vCard', NS.VCARD, {}, x('FN', NS.VCARD, {}, 'Bob')))).toBe('');
  });

  it('is empty for an empty BINVAL', () => {
    expect(photoHash(vcardWithPhoto(''))).toBe('');
  });
});
