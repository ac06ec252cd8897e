import { describe, expect, it } from 'vitest';

import { StanzaError } from './errors.js';
import { NS } from './ns.js';
import { buildRsmResult, parseRsm } from './rsm.js';
import { x } from './xml/element.js';
import type { Element } from './xml/element.js';

function set(children: Record<string, string>): Element {
  return x('set', NS.RSM, {}, ...Object.entries(children).map(([name, text]) => x(name, NS.RSM, {}, text)));
}

function conditionOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof StanzaError) return error.condition;
    throw error;
  }
}

describe('parseRsm', () => {
  it('uses the cap without a set', () => {
    expect(parseRsm(undefined, 50)).toEqual({ max: 50 });
  });

  it('uses the cap without max', () => {
    expect(parseRsm(set({}), 50).max).toBe(50);
  });

  it('reads max', () => {
    expect(parseRsm(set({ max: '10' }), 50).max).toBe(10);
  });

  it('caps max', () => {
    expect(parseRsm(set({ max: '500' }), 50).max).toBe(50);
  });

  it('caps a max beyond the number range', () => {
    expect(parseRsm(set({ max: '9'.repeat(400) }), 50).max).toBe(50);
  });

  it('accepts max 0 for a count request', () => {
    expect(parseRsm(set({ max: '0' }), 50).max).toBe(0);
  });

  it('reads after', () => {
    expect(parseRsm(set({ after: 'uid-9' }), 50).after).toBe('uid-9');
  });

  it('reads an empty after as no after', () => {
    expect(parseRsm(set({ after: '' }), 50).after).toBeUndefined();
  });

  it('reads before', () => {
    expect(parseRsm(set({ before: 'uid-1' }), 50).before).toBe('uid-1');
  });

  it('reads an empty before as a request for the last page', () => {
    expect(parseRsm(x('set', NS.RSM, {}, x('before', NS.RSM)), 50).before).toBe('');
  });

  it('tells no before apart from an empty one', () => {
    expect(parseRsm(set({ max: '5' }), 50).before).toBeUndefined();
  });

  it('reads index', () => {
    expect(parseRsm(set({ index: '371' }), 50).index).toBe(371);
  });

  it('ignores elements in another namespace', () => {
    expect(parseRsm(x('set', NS.RSM, {}, x('max', 'urn:other', {}, '3')), 50).max).toBe(50);
  });

  const invalid: [string, Record<string, string>][] = [
    ['negative max', { max: '-1' }],
    ['non-numeric max', { max: 'ten' }],
    ['fractional max', { max: '1.5' }],
    ['empty max', { max: '' }],
    ['negative index', { index: '-3' }],
    ['index beyond the safe integer range', { index: '9'.repeat(20) }],
  ];

  it.each(invalid)('rejects %s with bad-request', (_name, children) => {
    expect(conditionOf(() => parseRsm(set(children), 50))).toBe('bad-request');
  });
});

describe('buildRsmResult', () => {
  it('describes a page', () => {
    expect(buildRsmResult({ first: 'a', firstIndex: 0, last: 'j', count: 800 }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><first index="0">a</first><last>j</last><count>800</count></set>',
    );
  });

  it('leaves out the index when unknown', () => {
    expect(buildRsmResult({ first: 'a', last: 'a' }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><first>a</first><last>a</last></set>',
    );
  });

  it('describes an empty page with the count only', () => {
    expect(buildRsmResult({ count: 790 }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><count>790</count></set>',
    );
  });

  it('describes an empty page without count as an empty set', () => {
    expect(buildRsmResult({}).toString()).toBe('<set xmlns="http://jabber.org/protocol/rsm"/>');
  });

  it('drops the index of an empty page', () => {
    expect(buildRsmResult({ firstIndex: 5, count: 3 }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><count>3</count></set>',
    );
  });

  it('refuses first without last', () => {
    expect(() => buildRsmResult({ first: 'a' })).toThrow();
  });
});
