import { describe, expect, it } from 'vitest';
import { NS, StanzaError, parseForm, x } from '@parley/xmpp';
import { DEFAULT_CONFIG, applyConfigForm, configForm, parseStoredConfig, readAffiliationLists } from './room-config.js';

function submit(...fields: [string, ...string[]][]) {
  return x('x', NS.DATA_FORMS, { type: 'submit' }, ...fields.map(([name, ...values]) => x('field', NS.DATA_FORMS, { var: name }, ...values.map((value) => x('value', NS.DATA_FORMS, {}, value)))));
}

describe('configForm', () => {
  it('offers every field with the current values', () => {
    const form = parseForm(configForm({ ...DEFAULT_CONFIG, name: 'Room', password: 'pw' }, 100, { owners: ['a@example.test'], admins: [] }));
    const value = (name: string) => form.fields.find((field) => field.var === name)?.values;
    expect(value('FORM_TYPE')).toEqual(['http://jabber.org/protocol/muc#roomconfig']);
    expect(value('muc#roomconfig_roomname')).toEqual(['Room']);
    expect(value('muc#roomconfig_passwordprotectedroom')).toEqual(['1']);
    expect(value('muc#roomconfig_maxusers')).toEqual(['none']);
    expect(value('muc#roomconfig_roomowners')).toEqual(['a@example.test']);
    expect(form.fields.find((field) => field.var === 'muc#roomconfig_maxusers')?.options?.map((option) => option.value)).not.toContain('200');
  });
});

describe('applyConfigForm', () => {
  it('applies the submitted fields and keeps the others', () => {
    const config = applyConfigForm(
      submit(['muc#roomconfig_roomname', 'Team'], ['muc#roomconfig_persistentroom', 'true'], ['muc#roomconfig_whois', 'anyone'], ['muc#roomconfig_maxusers', '30'], ['unknown', 'x']),
      DEFAULT_CONFIG,
    );
    expect(config).toEqual({ ...DEFAULT_CONFIG, name: 'Team', persistent: true, whoisAnyone: true, maxUsers: 30 });
  });

  it('accepts the empty form of an instant room', () => {
    expect(applyConfigForm(x('x', NS.DATA_FORMS, { type: 'submit' }), DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
  });

  it('sets and clears the password', () => {
    const locked = applyConfigForm(submit(['muc#roomconfig_passwordprotectedroom', '1'], ['muc#roomconfig_roomsecret', 'pw']), DEFAULT_CONFIG);
    expect(locked.password).toBe('pw');
    expect(applyConfigForm(submit(['muc#roomconfig_passwordprotectedroom', '0']), locked).password).toBe('');
    expect(() => applyConfigForm(submit(['muc#roomconfig_passwordprotectedroom', '1']), DEFAULT_CONFIG)).toThrow(StanzaError);
  });

  it('refuses bad values, form types and FORM_TYPEs', () => {
    expect(() => applyConfigForm(submit(['muc#roomconfig_whois', 'everyone']), DEFAULT_CONFIG)).toThrow(/whois/);
    expect(() => applyConfigForm(submit(['muc#roomconfig_maxusers', 'many']), DEFAULT_CONFIG)).toThrow(StanzaError);
    expect(() => applyConfigForm(submit(['muc#roomconfig_moderatedroom', 'maybe']), DEFAULT_CONFIG)).toThrow(StanzaError);
    expect(() => applyConfigForm(submit(['FORM_TYPE', 'urn:other']), DEFAULT_CONFIG)).toThrow(StanzaError);
    expect(() => applyConfigForm(x('x', NS.DATA_FORMS, { type: 'form' }), DEFAULT_CONFIG)).toThrow(StanzaError);
  });
});

describe('readAffiliationLists', () => {
  it('reads untyped multi-value owner and admin fields as bare JIDs', () => {
    const lists = readAffiliationLists(submit(['muc#roomconfig_roomowners', 'a@example.test/res', 'b@example.test'], ['muc#roomconfig_roomadmins']));
    expect(lists).toEqual({ owners: ['a@example.test', 'b@example.test'], admins: [] });
    expect(readAffiliationLists(submit(['muc#roomconfig_roomname', 'x']))).toEqual({ owners: undefined, admins: undefined });
    expect(() => readAffiliationLists(submit(['muc#roomconfig_roomadmins', '@bad']))).toThrow(StanzaError);
  });
});

describe('parseStoredConfig', () => {
  it('fills keys an older version did not store', () => {
    expect(parseStoredConfig('{"name":"Old"}')).toEqual({ ...DEFAULT_CONFIG, name: 'Old' });
  });
});
