import { describe, expect, it } from 'vitest';
import { type Element, NS, StanzaError, x } from '@parley/xmpp';
import { parsePageSpec, parseQueryForm, parseTimestamp, queryFormElement } from './query.js';

function field(name: string, ...values: string[]): Element {
  return x('field', NS.DATA_FORMS, { var: name }, ...values.map((value) => x('value', NS.DATA_FORMS, {}, value)));
}

function query(...fields: Element[]): Element {
  return x('query', NS.MAM, {}, x('x', NS.DATA_FORMS, { type: 'submit' }, field('FORM_TYPE', NS.MAM), ...fields));
}

function conditionOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
  }
  return undefined;
}

describe('parseTimestamp', () => {
  it('reads UTC', () => {
    expect(parseTimestamp('2010-06-07T00:00:00Z', 'start')).toBe(Date.UTC(2010, 5, 7));
  });

  it('reads an offset', () => {
    expect(parseTimestamp('2010-06-07T02:00:00+02:00', 'start')).toBe(Date.UTC(2010, 5, 7));
  });

  it('reads a long fraction', () => {
    expect(parseTimestamp('2010-06-07T00:00:00.123456Z', 'start')).toBe(Date.UTC(2010, 5, 7) + 123);
  });

  it('rejects a date without time', () => {
    expect(conditionOf(() => parseTimestamp('2010-06-07', 'start'))).toBe('bad-request');
  });

  it('rejects an impossible month', () => {
    expect(conditionOf(() => parseTimestamp('2010-13-07T00:00:00Z', 'start'))).toBe('bad-request');
  });
});

describe('parseQueryForm', () => {
  it('accepts no form', () => {
    expect(parseQueryForm(x('query', NS.MAM))).toEqual({});
  });

  it('reads with', () => {
    expect(parseQueryForm(query(field('with', 'bob@example.test'))).with?.toString()).toBe('bob@example.test');
  });

  it('reads ids', () => {
    expect(parseQueryForm(query(field('ids', 'a', 'b'))).ids).toEqual(['a', 'b']);
  });

  it('reads the search text', () => {
    expect(parseQueryForm(query(field(`{${NS.FULLTEXT}}fulltext`, 'Big 会议'))).tokens).toEqual(['big', '会议']);
  });

  it('rejects too many ids', () => {
    const many = Array.from({ length: 251 }, (_, i) => `id${i}`);
    expect(conditionOf(() => parseQueryForm(query(field('ids', ...many))))).toBe('bad-request');
  });

  it('rejects a bad with', () => {
    expect(conditionOf(() => parseQueryForm(query(field('with', '@'))))).toBe('bad-request');
  });

  it('rejects another FORM_TYPE', () => {
    const form = x('query', NS.MAM, {}, x('x', NS.DATA_FORMS, { type: 'submit' }, field('FORM_TYPE', 'urn:xmpp:mam:1')));
    expect(conditionOf(() => parseQueryForm(form))).toBe('bad-request');
  });

  it('rejects an unknown field', () => {
    expect(conditionOf(() => parseQueryForm(query(field('include-groupchat', 'true'))))).toBe('feature-not-implemented');
  });
});

describe('parsePageSpec', () => {
  const rsm = (...children: Element[]) => x('query', NS.MAM, {}, x('set', NS.RSM, {}, ...children));

  it('defaults to 50', () => {
    expect(parsePageSpec(x('query', NS.MAM)).max).toBe(50);
  });

  it('caps at 250', () => {
    expect(parsePageSpec(rsm(x('max', NS.RSM, {}, '1000'))).max).toBe(250);
  });

  it('reads an empty before', () => {
    expect(parsePageSpec(rsm(x('before', NS.RSM))).before).toBe('');
  });
});

describe('queryFormElement', () => {
  it('lists the fulltext field', () => {
    const vars = queryFormElement().getChild('x', NS.DATA_FORMS)?.getChildren('field', NS.DATA_FORMS).map((el) => el.attr('var'));
    expect(vars).toContain(`{${NS.FULLTEXT}}fulltext`);
  });
});
