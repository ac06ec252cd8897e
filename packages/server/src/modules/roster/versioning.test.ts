import { describe, expect, it } from 'vitest';
import type { RosterItem } from '../../storage/index.js';
import { itemlessRequest, newRosterItem } from './records.js';
import { parseClientVersion, planVersionPushes } from './versioning.js';

function changed(contact: string, version: number): RosterItem {
  return { ...newRosterItem(contact), version };
}

describe('parseClientVersion', () => {
  it.each([
    ['12', 12],
    ['0', 0],
    ['', undefined],
    ['abc', undefined],
    ['-1', undefined],
    [undefined, undefined],
  ])('reads %j', (ver, expected) => {
    expect(parseClientVersion(ver)).toBe(expected);
  });
});

describe('planVersionPushes', () => {
  it('sends removals before items', () => {
    const pushes = planVersionPushes({ version: 7, items: [changed('a@example.test', 6)], removed: ['b@example.test'] }, 3);
    expect(pushes.map((push) => push.item.attr('jid'))).toEqual(['b@example.test', 'a@example.test']);
  });

  it('keeps client version on removals', () => {
    const pushes = planVersionPushes({ version: 7, items: [changed('a@example.test', 6)], removed: ['b@example.test'] }, 3);
    expect(pushes[0]?.version).toBe(3);
  });

  it('gives items their own versions', () => {
    const items = [changed('a@example.test', 4), changed('c@example.test', 5)];
    const pushes = planVersionPushes({ version: 7, items, removed: [] }, 3);
    expect(pushes.map((push) => push.version)).toEqual([4, 7]);
  });

  it('ends at the current version', () => {
    const pushes = planVersionPushes({ version: 9, items: [], removed: ['b@example.test'] }, 3);
    expect(pushes.at(-1)?.version).toBe(9);
  });

  it('leaves out stored requests', () => {
    const request = { ...itemlessRequest('d@example.test', '<presence/>'), version: 5 };
    expect(planVersionPushes({ version: 5, items: [request], removed: [] }, 3)).toEqual([]);
  });
});
