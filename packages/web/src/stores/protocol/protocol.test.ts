import { describe, expect, it } from 'vitest';
import { parseFrame, x } from '../../xmpp/index.js';
import { buildVCard, parseVCard, type Profile } from './vcard.js';
import { parseInvitation, statusCodes } from './muc.js';
import { buildPresence, parsePresence } from './presence.js';
import { parseItems, submitForm } from './data-form.js';
import { isBareJid, localPart } from './jid.js';
import { NS } from './ns.js';

describe('vCard', () => {
  it('round-trips the profile fields', () => {
    const profile: Profile = { fullName: '张三', nickname: 'san', organisation: 'Acme', department: '研发部', jobTitle: 'Engineer', email: 'z@example.test', phone: '+86 10 1234', note: 'hi' };
    const parsed = parseVCard(parseFrame(buildVCard(profile).toString()));
    expect(parsed).toEqual(profile);
  });

  it('leaves out empty fields', () => {
    const empty: Profile = { fullName: 'A', nickname: '', organisation: '', department: '', jobTitle: '', email: '', phone: '', note: '' };
    expect(buildVCard(empty).elements().map((child) => child.name)).toEqual(['FN']);
  });
});

describe('presence', () => {
  it('writes show and status', () => {
    const stanza = buildPresence('dnd', 'in a meeting');
    expect(stanza.getChildText('show')).toBe('dnd');
    expect(stanza.getChildText('status')).toBe('in a meeting');
    expect(buildPresence('available', '').getChild('show')).toBeUndefined();
  });

  it('reads a contact presence', () => {
    const info = parsePresence(parseFrame("<presence xmlns='jabber:client' from='Bob@Example.test/phone'><show>away</show><priority>5</priority></presence>"));
    expect(info).toMatchObject({ jid: 'bob@example.test', resource: 'phone', type: 'available', show: 'away', priority: 5 });
  });
});

describe('invitations', () => {
  it('reads a direct invitation', () => {
    const stanza = parseFrame(`<message xmlns='jabber:client' from='alice@example.test/pc'><x xmlns='${NS.CONFERENCE}' jid='team@conference.example.test' reason='join us'/></message>`);
    expect(parseInvitation(stanza)).toEqual({ room: 'team@conference.example.test', from: 'alice@example.test', reason: 'join us', password: undefined });
  });

  it('reads a mediated invitation', () => {
    const stanza = parseFrame(`<message xmlns='jabber:client' from='team@conference.example.test'><x xmlns='${NS.MUC_USER}'><invite from='alice@example.test/pc'><reason>r</reason></invite></x></message>`);
    expect(parseInvitation(stanza)).toEqual({ room: 'team@conference.example.test', from: 'alice@example.test', reason: 'r' });
  });

  it('ignores ordinary messages', () => {
    expect(parseInvitation(parseFrame("<message xmlns='jabber:client' from='a@b'><body>x</body></message>"))).toBeUndefined();
  });

  it('reads status codes', () => {
    const mucX = x('x', NS.MUC_USER, {}, x('status', NS.MUC_USER, { code: 110 }), x('status', NS.MUC_USER, { code: 201 }));
    expect(statusCodes(mucX)).toEqual([110, 201]);
  });
});

describe('data forms', () => {
  it('builds a submit form with FORM_TYPE', () => {
    const form = submitForm({ search: 'zs' }, 'jabber:iq:search');
    expect(form.getChildren('field').map((field) => field.attr('var'))).toEqual(['FORM_TYPE', 'search']);
  });

  it('reads result items', () => {
    const form = parseFrame(`<x xmlns='${NS.DATA}' type='result'><item><field var='jid'><value>z@x</value></field><field var='name'><value>张三</value></field></item></x>`);
    expect(parseItems(form)).toEqual([{ jid: 'z@x', name: '张三' }]);
  });
});

describe('jid helpers', () => {
  it('accepts only bare JIDs', () => {
    expect(isBareJid('alice@example.test')).toBe(true);
    expect(isBareJid('alice@example.test/pc')).toBe(false);
    expect(isBareJid('alice')).toBe(false);
    expect(isBareJid('a b@c')).toBe(false);
    expect(localPart('alice@example.test')).toBe('alice');
  });
});
