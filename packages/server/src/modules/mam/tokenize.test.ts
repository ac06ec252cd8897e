import { describe, expect, it } from 'vitest';
import { tokenize } from './tokenize.js';

describe('tokenize', () => {
  it('splits English into lower-case words', () => {
    expect(tokenize('Hello, World!', 'index')).toEqual(['hello', 'world']);
  });

  it('keeps digits in words', () => {
    expect(tokenize('room 42b', 'query')).toEqual(['room', '42b']);
  });

  it('applies NFKC', () => {
    expect(tokenize('ＡＢＣ', 'query')).toEqual(['abc']);
  });

  it('indexes Chinese as bigrams and characters', () => {
    expect(tokenize('会议室', 'index')).toEqual(['会议', '议室', '会', '议', '室']);
  });

  it('queries Chinese as bigrams', () => {
    expect(tokenize('会议室', 'query')).toEqual(['会议', '议室']);
  });

  it('queries one Chinese character as itself', () => {
    expect(tokenize('会', 'query')).toEqual(['会']);
  });

  it('splits at CJK punctuation', () => {
    expect(tokenize('你好。再见', 'query')).toEqual(['你好', '再见']);
  });

  it('separates Latin from Han', () => {
    expect(tokenize('iPhone手机', 'query')).toEqual(['iphone', '手机']);
  });

  it('keeps the Katakana long vowel mark in a run', () => {
    expect(tokenize('コーヒー', 'query')).toEqual(['コー', 'ーヒ', 'ヒー']);
  });

  it('treats Hangul as CJK', () => {
    expect(tokenize('회의', 'query')).toEqual(['회의']);
  });

  it('removes duplicates', () => {
    expect(tokenize('no no no', 'index')).toEqual(['no']);
  });

  it('returns nothing for punctuation', () => {
    expect(tokenize('?!…', 'query')).toEqual([]);
  });

  it('cuts very long words', () => {
    expect(tokenize('a'.repeat(100), 'index')[0]).toHaveLength(64);
  });

  it('finds a query word inside an indexed sentence', () => {
    const indexed = new Set(tokenize('今天的会议改到三点', 'index'));
    expect(tokenize('会议', 'query').every((token) => indexed.has(token))).toBe(true);
  });
});
