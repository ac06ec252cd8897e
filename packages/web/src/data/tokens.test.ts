import { describe, expect, it } from 'vitest';
import { leadToken, matchesAll, tokenize } from './tokens.js';

describe('search tokens', () => {
  it('lowercases words and drops punctuation', () => {
    expect(tokenize('Hello, WORLD! hello again')).toEqual(['hello', 'world', 'again']);
  });

  it('splits CJK runs into bigrams', () => {
    expect(tokenize('今天的会议改到三点')).toEqual(['今天', '天的', '的会', '会议', '议改', '改到', '到三', '三点']);
    expect(tokenize('会')).toEqual(['会']);
  });

  it('handles mixed scripts', () => {
    expect(tokenize('Meeting 会议 at 3pm')).toEqual(['meeting', '会议', 'at', '3pm']);
  });

  it('finds a CJK word inside a sentence and a typed prefix', () => {
    const tokens = tokenize('今天的会议改到三点, meeting moved');
    expect(matchesAll(tokens, tokenize('会议'))).toBe(true);
    expect(matchesAll(tokens, tokenize('meet 三点'))).toBe(true);
    expect(matchesAll(tokens, tokenize('会谈'))).toBe(false);
  });

  it('looks up the longest query token', () => {
    expect(leadToken(['a', 'meeting', 'at'])).toBe('meeting');
    expect(leadToken([])).toBeUndefined();
  });
});
