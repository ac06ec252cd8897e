import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { capsHash, capsVerificationString, compareOctets } from './caps.js';

const feature = (name: string) => x('feature', NS.DISCO_INFO, { var: name });
const field = (name: string, ...values: string[]) =>
  x('field', NS.DATA_FORMS, { var: name }, ...values.map((value) => x('value', NS.DATA_FORMS, {}, value)));

// XEP-0115 section 5.2.
function simpleExample() {
  return x(
    'query',
    NS.DISCO_INFO,
    {},
    x('identity', NS.DISCO_INFO, { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
    feature('http://jabber.org/protocol/disco#info'),
    feature('http://jabber.org/protocol/disco#items'),
    feature('http://jabber.org/protocol/muc'),
    feature('http://jabber.org/protocol/caps'),
  );
}

// XEP-0115 section 5.3, with the fields out of order to check the sorting.
function complexExample() {
  return x(
    'query',
    NS.DISCO_INFO,
    {},
    x('identity', NS.DISCO_INFO, { 'xml:lang': 'en', category: 'client', name: 'Psi 0.11', type: 'pc' }),
    x('identity', NS.DISCO_INFO, { 'xml:lang': 'el', category: 'client', name: '\u03a8 0.11', type: 'pc' }),
    feature('http://jabber.org/protocol/caps'),
    feature('http://jabber.org/protocol/disco#info'),
    feature('http://jabber.org/protocol/disco#items'),
    feature('http://jabber.org/protocol/muc'),
    x(
      'x',
      NS.DATA_FORMS,
      { type: 'result' },
      x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, 'urn:xmpp:dataforms:softwareinfo')),
      field('software_version', '0.11'),
      field('ip_version', 'ipv6', 'ipv4'),
      field('os', 'Mac'),
      field('os_version', '10.5.1'),
      field('software', 'Psi'),
    ),
  );
}

describe('capsHash', () => {
  it('matches the XEP-0115 simple example', () => {
    expect(capsHash(simpleExample())).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('matches the XEP-0115 complex example', () => {
    expect(capsHash(complexExample())).toBe('q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  it('builds S of the complex example', () => {
    expect(capsVerificationString(complexExample())).toBe(
      'client/pc/el/\u03a8 0.11<client/pc/en/Psi 0.11<' +
        'http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<' +
        'http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<' +
        'urn:xmpp:dataforms:softwareinfo<' +
        'ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<',
    );
  });

  it('ignores a form without FORM_TYPE', () => {
    const query = simpleExample().append(x('x', NS.DATA_FORMS, { type: 'result' }, field('os', 'Mac')));
    expect(capsHash(query)).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('does not depend on element order', () => {
    const reversed = complexExample();
    reversed.children.reverse();
    expect(capsHash(reversed)).toBe('q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });
});

describe('compareOctets', () => {
  it('orders by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF21 is one UTF-16 unit above the surrogates of U+1F600, but its UTF-8 bytes sort first.
    expect(compareOctets('\uff21', '\u{1f600}')).toBeLessThan(0);
  });

  it('agrees with Buffer.compare', () => {
    const strings = ['', 'a', 'ab', 'b', 'B', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', 'a\u{1f600}', 'a\uffff', 'urn:xmpp:mam:2', 'urn:xmpp:mam:2#extended'];
    for (const a of strings) {
      for (const b of strings) {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        expect(Math.sign(compareOctets(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(bytes);
      }
    }
  });
});
