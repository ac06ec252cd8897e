import { describe, expect, it } from 'vitest';
import { type DataForm, StanzaError } from '@parley/xmpp';
import { applyConfigForm, checkPreconditions, configFromPublishOptions, defaultConfig, effectiveMaxItems } from './config.js';

const LIMITS = { maxItemsPerNode: 100 };

function options(fields: Record<string, string | string[]>): DataForm {
  return {
    type: 'submit',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: ['http://jabber.org/protocol/pubsub#publish-options'] },
      ...Object.entries(fields).map(([name, value]) => ({ var: name, values: Array.isArray(value) ? value : [value] })),
    ],
  };
}

function pubsubCondition(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof StanzaError) return error.extra?.name ?? error.condition;
    throw error;
  }
  return undefined;
}

describe('defaultConfig', () => {
  it('uses presence access for ordinary nodes', () => {
    expect(defaultConfig('http://jabber.org/protocol/tune').accessModel).toBe('presence');
    expect(defaultConfig('http://jabber.org/protocol/tune').sendLastPublished).toBe('on_sub_and_presence');
  });

  it('keeps bookmarks private', () => {
    const config = defaultConfig('urn:xmpp:bookmarks:1');
    expect(config.accessModel).toBe('whitelist');
    expect(config.maxItems).toBe('max');
    expect(config.sendLastPublished).toBe('never');
  });
});

describe('checkPreconditions', () => {
  const whitelist = { ...defaultConfig('node'), accessModel: 'whitelist' as const, maxItems: 'max' as const };

  it('accepts equal values', () => {
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#access_model': 'whitelist', 'pubsub#persist_items': '1' }), LIMITS))).toBeUndefined();
  });

  it('treats true and 1 alike', () => {
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#persist_items': 'true' }), LIMITS))).toBeUndefined();
  });

  it('compares max_items by effect', () => {
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#max_items': '100' }), LIMITS))).toBeUndefined();
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#max_items': '10' }), LIMITS))).toBe('precondition-not-met');
  });

  it('rejects a different access model', () => {
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#access_model': 'presence' }), LIMITS))).toBe('precondition-not-met');
  });

  it('rejects unknown and invalid options', () => {
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#made_up': '1' }), LIMITS))).toBe('precondition-not-met');
    expect(pubsubCondition(() => checkPreconditions(whitelist, options({ 'pubsub#persist_items': 'maybe' }), LIMITS))).toBe('precondition-not-met');
  });

  it('compares roster groups as sets', () => {
    const roster = { ...whitelist, accessModel: 'roster' as const, rosterGroups: ['A', 'B'] };
    expect(pubsubCondition(() => checkPreconditions(roster, options({ 'pubsub#roster_groups_allowed': ['B', 'A'] }), LIMITS))).toBeUndefined();
    expect(pubsubCondition(() => checkPreconditions(roster, options({ 'pubsub#roster_groups_allowed': ['A'] }), LIMITS))).toBe('precondition-not-met');
  });
});

describe('applyConfigForm', () => {
  it('changes the given fields only', () => {
    const config = applyConfigForm(defaultConfig('node'), options({ 'pubsub#max_items': '7' }), LIMITS);
    expect(config.maxItems).toBe(7);
    expect(config.accessModel).toBe('presence');
  });

  it('rejects max_items above the limit', () => {
    expect(pubsubCondition(() => applyConfigForm(defaultConfig('node'), options({ 'pubsub#max_items': '101' }), LIMITS))).toBe('not-acceptable');
  });

  it('rejects an unknown access model', () => {
    expect(pubsubCondition(() => applyConfigForm(defaultConfig('node'), options({ 'pubsub#access_model': 'authorize' }), LIMITS))).toBe('not-acceptable');
  });

  it('turns invalid publish options into precondition-not-met', () => {
    expect(pubsubCondition(() => configFromPublishOptions('node', options({ 'pubsub#access_model': 'nobody' }), LIMITS))).toBe('precondition-not-met');
  });
});

describe('effectiveMaxItems', () => {
  it('caps at the server limit', () => {
    expect(effectiveMaxItems({ ...defaultConfig('node'), maxItems: 'max' }, LIMITS)).toBe(100);
    expect(effectiveMaxItems({ ...defaultConfig('node'), maxItems: 3 }, LIMITS)).toBe(3);
  });
});
