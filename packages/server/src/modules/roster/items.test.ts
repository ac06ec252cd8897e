import { describe, expect, it } from 'vitest';
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import { MAX_GROUP_LENGTH, MAX_NAME_LENGTH, itemElement, parseRosterSet } from './items.js';
import { newRosterItem } from './records.js';

const USER = JID.parse('alice@example.test/desk');

function query(...items: Element[]): Element {
  return x('query', NS.ROSTER, {}, ...items);
}

function item(attrs: Record<string, string>, ...groups: string[]): Element {
  return x('item', NS.ROSTER, attrs, ...groups.map((group) => x('group', NS.ROSTER, {}, group)));
}

function conditionOf(task: () => unknown): string | undefined {
  try {
    task();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return undefined;
}

describe('parseRosterSet', () => {
  it('reads jid, name and groups', () => {
    const parsed = parseRosterSet(query(item({ jid: 'Bob@Example.test', name: 'Bob' }, 'Friends', 'Work')), USER);
    expect(parsed).toEqual({ contact: JID.parse('bob@example.test'), remove: false, name: 'Bob', groups: ['Friends', 'Work'] });
  });

  it('reads a removal', () => {
    const parsed = parseRosterSet(query(item({ jid: 'bob@example.test', subscription: 'remove' })), USER);
    expect(parsed.remove).toBe(true);
  });

  it('ignores other subscription values', () => {
    const parsed = parseRosterSet(query(item({ jid: 'bob@example.test', subscription: 'both' })), USER);
    expect(parsed.remove).toBe(false);
  });

  it('treats an empty name as none', () => {
    const parsed = parseRosterSet(query(item({ jid: 'bob@example.test', name: '' })), USER);
    expect(parsed.name).toBeNull();
  });

  it.each([
    ['two items', () => query(item({ jid: 'bob@example.test' }), item({ jid: 'carol@example.test' })), 'bad-request'],
    ['no item', () => query(), 'bad-request'],
    ['missing jid', () => query(item({})), 'bad-request'],
    ['malformed jid', () => query(item({ jid: 'bob@@example.test' })), 'jid-malformed'],
    ['full jid', () => query(item({ jid: 'bob@example.test/phone' })), 'bad-request'],
    ['own jid', () => query(item({ jid: 'alice@example.test' })), 'not-allowed'],
    ['long name', () => query(item({ jid: 'bob@example.test', name: 'n'.repeat(MAX_NAME_LENGTH + 1) })), 'not-acceptable'],
    ['empty group', () => query(item({ jid: 'bob@example.test' }, '')), 'not-acceptable'],
    ['long group', () => query(item({ jid: 'bob@example.test' }, 'g'.repeat(MAX_GROUP_LENGTH + 1))), 'not-acceptable'],
    ['duplicate groups', () => query(item({ jid: 'bob@example.test' }, 'Friends', 'Friends')), 'bad-request'],
  ])('rejects %s', (_case, build, condition) => {
    expect(conditionOf(() => parseRosterSet(build(), USER))).toBe(condition);
  });
});

describe('itemElement', () => {
  it('writes ask and approved', () => {
    const element = itemElement({ ...newRosterItem('bob@example.test'), ask: true, approved: true });
    expect(element.attrs).toEqual({ jid: 'bob@example.test', subscription: 'none', ask: 'subscribe', approved: 'true' });
  });

  it('never shows pending in', () => {
    const element = itemElement({ ...newRosterItem('bob@example.test'), pendingIn: true });
    expect(element.attrs).toEqual({ jid: 'bob@example.test', subscription: 'none' });
  });

  it('writes groups in order', () => {
    const element = itemElement({ ...newRosterItem('bob@example.test'), groups: ['B', 'A'] });
    expect(element.getChildren('group', NS.ROSTER).map((group) => group.text())).toEqual(['B', 'A']);
  });
});
