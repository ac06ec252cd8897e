import { describe, expect, it } from 'vitest';

import { addressTerms, nameTerms, queryPrefixes } from './terms.js';

function matches(terms: Set<string>, query: string): boolean {
  return queryPrefixes(query).every((prefix) => [...terms].some((term) => term.startsWith(prefix)));
}

describe('directory terms', () => {
  it('finds a Chinese name by characters, pinyin and initials', () => {
    const terms = nameTerms('张三');
    for (const query of ['张三', '张', '三', 'zhangsan', 'zhang san', 'zhangs', 'san', 'zs', 'ZS', 'ｚｈａｎｇ']) {
      expect(matches(terms, query), query).toBe(true);
    }
    expect(matches(terms, 'lisi')).toBe(false);
    expect(matches(terms, 'zx')).toBe(false);
  });

  it('indexes every reading of a polyphonic character', () => {
    const terms = nameTerms('曾乐');
    for (const query of ['zengle', 'cengle', 'zengyue', 'zy', 'cl']) expect(matches(terms, query), query).toBe(true);
  });

  it('indexes ü as v and as u', () => {
    const terms = nameTerms('吕布');
    expect(matches(terms, 'lvbu')).toBe(true);
    expect(matches(terms, 'lubu')).toBe(true);
  });

  it('handles mixed-script names', () => {
    const terms = nameTerms('Jack 王');
    for (const query of ['jack', 'jackwang', 'wang', 'jw', '王', 'jack王']) expect(matches(terms, query), query).toBe(true);
    const latin = nameTerms('Alice Smith');
    for (const query of ['alice', 'smith', 'alicesmith', 'alice smi', 'as']) expect(matches(latin, query), query).toBe(true);
  });

  it('bounds the terms of a long name', () => {
    const terms = nameTerms('重重重重重重重重重重重重重重重重重重重重重重重重');
    expect(terms.size).toBeLessThan(16 * 3 * 32 + 1);
    expect(matches(terms, 'zhongzhong')).toBe(true);
  });

  it('finds addresses whole and by local part', () => {
    const terms = addressTerms('Zhang.San@Corp.Example');
    for (const query of ['zhang.san@corp.example', 'zhang.san', 'zhangsan', 'san', 'corp']) expect(matches(terms, query), query).toBe(true);
  });
});
