import { describe, expect, it } from 'vitest';
import { x } from './element.js';
import { parseFrame } from './xml-parser.js';

describe('parseFrame', () => {
  it('resolves default and prefixed namespaces', () => {
    const features = parseFrame(
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>",
    );
    expect(features.name).toBe('features');
    expect(features.ns).toBe('http://etherx.jabber.org/streams');
    expect(features.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')?.getChildText('mechanism')).toBe('SCRAM-SHA-256');
  });

  it('inherits the namespace, decodes entities and keeps xml:lang', () => {
    const message = parseFrame('<message xmlns="jabber:client" xml:lang="zh" to="a@b"><body>1 &lt; 2 &amp;&#x4F60;&#22909; "ok"</body></message>');
    expect(message.attr('xml:lang')).toBe('zh');
    expect(message.getChild('body')?.ns).toBe('jabber:client');
    expect(message.getChildText('body')).toBe('1 < 2 &你好 "ok"');
  });

  it('reads back what the serializer writes', () => {
    const original = x('iq', 'jabber:client', { type: 'set', id: "q'1" }, x('query', 'jabber:iq:roster', {}, x('item', 'jabber:iq:roster', { name: '<&>' }, 'text & more')));
    expect(parseFrame(original.toString()).toString()).toBe(original.toString());
  });

  it('accepts an XML declaration and CDATA', () => {
    expect(parseFrame("<?xml version='1.0'?><a xmlns='x'><![CDATA[<raw>]]></a>").text()).toBe('<raw>');
  });

  it('refuses what RFC 6120 forbids and broken documents', () => {
    for (const bad of [
      '<a xmlns="x"><!-- c --></a>',
      '<!DOCTYPE a><a/>',
      '<a xmlns="x"><?pi?></a>',
      '<a xmlns="x"><b></a>',
      '<a xmlns="x">&unknown;</a>',
      '<p:a/>',
      '<a xmlns="x" b="1" b="2"/>',
      '<a xmlns="x"/><b/>',
      '<a xmlns="x">',
      '<a b=1/>',
    ]) {
      expect(() => parseFrame(bad), bad).toThrow();
    }
  });
});
