import { describe, expect, it } from 'vitest';

import { StanzaError } from './errors.js';
import {
  buildForm,
  fieldBoolean,
  fieldValue,
  fieldValues,
  getFormType,
  parseBoolean,
  parseForm,
} from './forms.js';
import type { DataForm } from './forms.js';
import { NS } from './ns.js';
import { Element, x } from './xml/element.js';

function field(attrs: Record<string, string>, ...children: Element[]): Element {
  return x('field', NS.DATA_FORMS, attrs, ...children);
}

function value(text: string): Element {
  return x('value', NS.DATA_FORMS, {}, text);
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

const botForm = x(
  'x',
  NS.DATA_FORMS,
  { type: 'form' },
  x('title', NS.DATA_FORMS, {}, 'Bot Configuration'),
  x('instructions', NS.DATA_FORMS, {}, 'Fill out this form'),
  x('instructions', NS.DATA_FORMS, {}, 'then submit it'),
  field({ type: 'hidden', var: 'FORM_TYPE' }, value('jabber:bot')),
  field({ type: 'fixed' }, value('Section 1')),
  field({ type: 'boolean', var: 'public', label: 'Public bot?' }, x('required', NS.DATA_FORMS), value('1')),
  field(
    { type: 'list-multi', var: 'features' },
    x('desc', NS.DATA_FORMS, {}, 'Pick some'),
    x('option', NS.DATA_FORMS, { label: 'News' }, value('news')),
    x('option', NS.DATA_FORMS, {}, value('search')),
    value('news'),
    value('search'),
  ),
  field({ var: 'botname' }, value('Joogle')),
);

describe('parseForm', () => {
  const form = parseForm(botForm);

  it('reads the form type', () => {
    expect(form.type).toBe('form');
  });

  it('reads the title', () => {
    expect(form.title).toBe('Bot Configuration');
  });

  it('reads every instructions element', () => {
    expect(form.instructions).toEqual(['Fill out this form', 'then submit it']);
  });

  it('keeps field order', () => {
    expect(form.fields.map((f) => f.var ?? '(fixed)')).toEqual(['FORM_TYPE', '(fixed)', 'public', 'features', 'botname']);
  });

  it('reads the label', () => {
    expect(form.fields[2]?.label).toBe('Public bot?');
  });

  it('reads required', () => {
    expect(form.fields[2]?.required).toBe(true);
  });

  it('reads the description', () => {
    expect(form.fields[3]?.desc).toBe('Pick some');
  });

  it('reads options with and without label', () => {
    expect(form.fields[3]?.options).toEqual([{ label: 'News', value: 'news' }, { value: 'search' }]);
  });

  it('leaves a missing type absent', () => {
    expect(form.fields[4]?.type).toBeUndefined();
  });

  it('reads the reported header and items of a result', () => {
    const result = parseForm(
      x(
        'x',
        NS.DATA_FORMS,
        { type: 'result' },
        x('reported', NS.DATA_FORMS, {}, field({ var: 'jid', type: 'jid-single', label: 'JID' })),
        x('item', NS.DATA_FORMS, {}, field({ var: 'jid' }, value('a@example.test'))),
        x('item', NS.DATA_FORMS, {}, field({ var: 'jid' }, value('b@example.test'))),
      ),
    );
    expect(result.items?.map((item) => item[0]?.values[0])).toEqual(['a@example.test', 'b@example.test']);
  });

  const malformed: [string, Element][] = [
    ['wrong namespace', x('x', 'jabber:x:oob', { type: 'form' })],
    ['missing type', x('x', NS.DATA_FORMS)],
    ['unknown form type', x('x', NS.DATA_FORMS, { type: 'draft' })],
    ['unknown field type', x('x', NS.DATA_FORMS, { type: 'submit' }, field({ var: 'a', type: 'date' }))],
    ['boolean "yes"', x('x', NS.DATA_FORMS, { type: 'submit' }, field({ var: 'a', type: 'boolean' }, value('yes')))],
    ['field without var', x('x', NS.DATA_FORMS, { type: 'submit' }, field({ type: 'text-single' }, value('v')))],
    ['two values in text-single', x('x', NS.DATA_FORMS, { type: 'submit' }, field({ var: 'a' }, value('1'), value('2')))],
    [
      'option on a text field',
      x('x', NS.DATA_FORMS, { type: 'form' }, field({ var: 'a' }, x('option', NS.DATA_FORMS, {}, value('v')))),
    ],
    [
      'option without value',
      x('x', NS.DATA_FORMS, { type: 'form' }, field({ var: 'a', type: 'list-single' }, x('option', NS.DATA_FORMS))),
    ],
  ];

  it.each(malformed)('rejects %s with bad-request', (_name, el) => {
    expect(conditionOf(() => parseForm(el))).toBe('bad-request');
  });

  it('accepts several values in a hidden field', () => {
    const el = x('x', NS.DATA_FORMS, { type: 'submit' }, field({ var: 'h', type: 'hidden' }, value('1'), value('2')));
    expect(parseForm(el).fields[0]?.values).toEqual(['1', '2']);
  });
});

describe('buildForm', () => {
  const form: DataForm = {
    type: 'result',
    title: 'Search',
    instructions: ['Results'],
    fields: [{ var: 'FORM_TYPE', type: 'hidden', values: ['jabber:iq:search'] }],
    reported: [{ var: 'nick', type: 'text-single', label: 'Nickname', values: [] }],
    items: [[{ var: 'nick', values: ['pete'] }]],
  };

  it('builds a jabber:x:data element', () => {
    expect(buildForm(form).ns).toBe(NS.DATA_FORMS);
  });

  it('serializes in schema order', () => {
    expect(buildForm(form).toString()).toBe(
      '<x xmlns="jabber:x:data" type="result"><title>Search</title><instructions>Results</instructions>' +
        '<field var="FORM_TYPE" type="hidden"><value>jabber:iq:search</value></field>' +
        '<reported><field var="nick" type="text-single" label="Nickname"/></reported>' +
        '<item><field var="nick"><value>pete</value></field></item></x>',
    );
  });

  it('round-trips through parseForm', () => {
    expect(parseForm(buildForm(parseForm(botForm)))).toEqual(parseForm(botForm));
  });
});

describe('field values', () => {
  const form = parseForm(botForm);

  it('getFormType reads the hidden FORM_TYPE', () => {
    expect(getFormType(form)).toBe('jabber:bot');
  });

  it('getFormType accepts an untyped FORM_TYPE in a submission', () => {
    expect(getFormType({ type: 'submit', fields: [{ var: 'FORM_TYPE', values: ['urn:x'] }] })).toBe('urn:x');
  });

  it('getFormType ignores a FORM_TYPE that is not hidden', () => {
    expect(getFormType({ type: 'form', fields: [{ var: 'FORM_TYPE', type: 'text-single', values: ['x'] }] })).toBeUndefined();
  });

  it('getFormType is undefined without the field', () => {
    expect(getFormType({ type: 'submit', fields: [] })).toBeUndefined();
  });

  it('fieldValue returns the first value', () => {
    expect(fieldValue(form, 'botname')).toBe('Joogle');
  });

  it('fieldValue of a missing field is undefined', () => {
    expect(fieldValue(form, 'missing')).toBeUndefined();
  });

  it('fieldValues returns every value', () => {
    expect(fieldValues(form, 'features')).toEqual(['news', 'search']);
  });

  it('fieldValues of a missing field is empty', () => {
    expect(fieldValues(form, 'missing')).toEqual([]);
  });

  it('fieldBoolean reads "1" as true', () => {
    expect(fieldBoolean(form, 'public')).toBe(true);
  });

  it('fieldBoolean of a missing field is undefined', () => {
    expect(fieldBoolean(form, 'missing')).toBeUndefined();
  });

  const booleans: [string, boolean][] = [
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
    [' true ', true],
  ];

  it.each(booleans)('parseBoolean(%j)', (text, expected) => {
    expect(parseBoolean(text)).toBe(expected);
  });

  it.each(['yes', 'TRUE', ''])('parseBoolean(%j) is bad-request', (text) => {
    expect(conditionOf(() => parseBoolean(text))).toBe('bad-request');
  });
});
