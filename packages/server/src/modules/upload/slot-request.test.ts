import { describe, expect, it } from 'vitest';

import { essenceOf, isInlineType, isValidMediaType } from './media-types.js';
import { filenameProblem } from './slot-request.js';

describe('filenameProblem', () => {
  it('accepts ordinary names in any script', () => {
    for (const name of ['photo.jpg', '报告 2026.pdf', 'résumé (v2).docx', 'emoji 👍🏽.png', '.profile']) expect(filenameProblem(name), name).toBeUndefined();
  });

  it('refuses empty, path-like, control and overlong names', () => {
    for (const name of ['', ' ', '.', '..', 'a/b', 'a\\b', 'a\u0000b', 'a\u007fb', 'gpj\u202e.exe', 'x'.repeat(256)]) expect(filenameProblem(name), JSON.stringify(name)).toBeDefined();
    expect(filenameProblem('长'.repeat(85))).toBeUndefined();
    expect(filenameProblem('长'.repeat(86))).toBeDefined();
  });
});

describe('media types', () => {
  it('checks syntax and reads the essence', () => {
    expect(isValidMediaType('image/png')).toBe(true);
    expect(isValidMediaType('text/plain; charset="utf-8"')).toBe(true);
    expect(isValidMediaType('text')).toBe(false);
    expect(isValidMediaType('text/plain\r\nX-Evil: 1')).toBe(false);
    expect(essenceOf('Text/Plain; charset=utf-8')).toBe('text/plain');
  });

  it('shows only images, audio and video inline, never SVG', () => {
    expect(isInlineType('image/png')).toBe(true);
    expect(isInlineType('video/mp4')).toBe(true);
    expect(isInlineType('image/svg+xml')).toBe(false);
    expect(isInlineType('application/pdf')).toBe(false);
  });
});
