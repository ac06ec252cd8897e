import { describe, expect, it } from 'vitest';
import { NS, StanzaError, x } from '@parley/xmpp';
import { NS_INBOX } from './ns.js';
import { parseInboxFilter } from './query.js';

function inbox(fields: Record<string, string>, type = 'submit') {
  const form = x('x', NS.DATA_FORMS, { type }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS_INBOX)));
  for (const [name, value] of Object.entries(fields)) form.append(x('field', NS.DATA_FORMS, { var: name }, x('value', NS.DATA_FORMS, {}, value)));
  return x('inbox', NS_INBOX, {}, form);
}

function conditionOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return undefined;
}

describe('parseInboxFilter', () => {
  it('lists everything newest first without a form', () => {
    expect(parseInboxFilter(x('inbox', NS_INBOX))).toEqual({ box: 'all', hiddenRead: false, order: 'desc' });
  });

  it('reads every field', () => {
    const filter = parseInboxFilter(inbox({ start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00.5Z', order: 'asc', hidden_read: 'true', box: 'archive' }));
    expect(filter).toEqual({
      start: Date.parse('2024-01-01T00:00:00Z'),
      end: Date.parse('2024-01-02T00:00:00.5Z'),
      order: 'asc',
      hiddenRead: true,
      box: 'archive',
    });
  });

  it('maps the archive boolean to a box', () => {
    expect(parseInboxFilter(inbox({ archive: 'false' })).box).toBe('inbox');
    expect(parseInboxFilter(inbox({ archive: 'true' })).box).toBe('archive');
    expect(parseInboxFilter(inbox({ archive: 'true', box: 'all' })).box).toBe('all');
  });

  it('rejects invalid values', () => {
    expect(conditionOf(() => parseInboxFilter(inbox({ order: 'sideways' })))).toBe('bad-request');
    expect(conditionOf(() => parseInboxFilter(inbox({ start: 'yesterday' })))).toBe('bad-request');
    expect(conditionOf(() => parseInboxFilter(inbox({}, 'form')))).toBe('bad-request');
  });
});
