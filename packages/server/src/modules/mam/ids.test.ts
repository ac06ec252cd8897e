import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { StanzaIdGenerator, addStanzaId, archiveIdOf, decodeTime, originIdOf, recordArchiveId, removeForgedStanzaIds } from './ids.js';

function fixedClock(...times: number[]): () => number {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

describe('StanzaIdGenerator', () => {
  it('issues ids that sort in issue order within a millisecond', () => {
    const generator = new StanzaIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => generator.next().id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('issues ids that sort across milliseconds', () => {
    const generator = new StanzaIdGenerator(fixedClock(5, 6, 100_000));
    const ids = [generator.next().id, generator.next().id, generator.next().id];
    expect([...ids].sort()).toEqual(ids);
  });

  it('issues unique ids', () => {
    const generator = new StanzaIdGenerator(() => 42);
    const ids = Array.from({ length: 70_000 }, () => generator.next().id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never goes back with the clock', () => {
    const generator = new StanzaIdGenerator(fixedClock(1000, 500));
    const first = generator.next();
    expect(generator.next().stamp).toBeGreaterThanOrEqual(first.stamp);
  });

  it('encodes the time', () => {
    const generator = new StanzaIdGenerator(() => 1_700_000_000_123);
    expect(decodeTime(generator.next().id)).toBe(1_700_000_000_123);
  });

  it('continues after an id from before a restart', () => {
    const before = new StanzaIdGenerator(() => 2000).next().id;
    const generator = new StanzaIdGenerator(() => 1000);
    generator.advancePast(before);
    expect(generator.next().id > before).toBe(true);
  });
});

describe('stanza-id elements', () => {
  it('reads the origin-id', () => {
    expect(originIdOf(x('message', NS.CLIENT, {}, x('origin-id', NS.STANZA_ID, { id: 'o1' })))).toBe('o1');
  });

  it('ignores an empty origin-id', () => {
    expect(originIdOf(x('message', NS.CLIENT, {}, x('origin-id', NS.STANZA_ID, { id: '' })))).toBeUndefined();
  });

  it('removes stanza ids by our entities', () => {
    const message = x('message', NS.CLIENT, {}, x('stanza-id', NS.STANZA_ID, { by: 'bob@example.test', id: 'f' }), x('stanza-id', NS.STANZA_ID, { by: 'muc.other', id: 'k' }));
    removeForgedStanzaIds(message, (by) => by.endsWith('example.test'));
    expect(message.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('by'))).toEqual(['muc.other']);
  });

  it('replaces a stanza id with the same by', () => {
    const message = x('message', NS.CLIENT, {}, x('stanza-id', NS.STANZA_ID, { by: 'bob@example.test', id: 'old' }));
    addStanzaId(message, 'bob@example.test', 'new');
    expect(message.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('id'))).toEqual(['new']);
  });

  it('remembers archive ids per stanza', () => {
    const message = x('message', NS.CLIENT);
    recordArchiveId(message, 'alice@example.test', 'a1');
    expect(archiveIdOf(message, 'alice@example.test')).toBe('a1');
  });
});
