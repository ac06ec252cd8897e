import { describe, expect, it } from 'vitest';

import { JID, JidError, jid } from './jid.js';

function reasonOf(input: string): string | undefined {
  try {
    JID.parse(input);
    return undefined;
  } catch (error) {
    if (error instanceof JidError) return error.message;
    throw error;
  }
}

describe('JID.parse', () => {
  // [input, local, domain, resource]
  const parsed: [string, string, string, string][] = [
    ['ALICE@Example.Test/Res', 'alice', 'example.test', 'Res'],
    ['\u65e5\u672c\u8a9e@example.test/\u{1f40e}', '\u65e5\u672c\u8a9e', 'example.test', '\u{1f40e}'],
    // "Ünïcödé" in NFD comes back in NFC.
    ['alice@example.test/U\u0308ni\u0308co\u0308de\u0301', 'alice', 'example.test', '\u00dcn\u00efc\u00f6d\u00e9'],
    ['x@y/a/b', 'x', 'y', 'a/b'],
    ['alice@example.test/name \u05d7\u05d9\u05d1\u05d4', 'alice', 'example.test', 'name \u05d7\u05d9\u05d1\u05d4'],
    ['example.test', '', 'example.test', ''],
    ['example.test.', '', 'example.test', ''],
    ['example.test/res', '', 'example.test', 'res'],
    ['a/b@c', '', 'a', 'b@c'],
    ['\uff21\uff2c\uff29\uff23\uff25@example.test', 'alice', 'example.test', ''],
    ['alice@127.0.0.1', 'alice', '127.0.0.1', ''],
    ['alice@[::1]/r', 'alice', '[::1]', 'r'],
    ['alice@[2001:DB8::1]', 'alice', '[2001:db8::1]', ''],
    ['B\u00fccher.Example', '', 'b\u00fccher.example', ''],
    ['xn--bcher-kva.example', '', 'b\u00fccher.example', ''],
    ['\u65e5\u672c\u3002jp', '', '\u65e5\u672c.jp', ''],
    ['\u65e5\u672c.xn--bcher-kva', '', '\u65e5\u672c.b\u00fccher', ''],
  ];

  it.each(parsed)('local of %s', (input, local) => {
    expect(JID.parse(input).local).toBe(local);
  });

  it.each(parsed)('domain of %s', (input, _local, domain) => {
    expect(JID.parse(input).domain).toBe(domain);
  });

  it.each(parsed)('resource of %s', (input, _local, _domain, resource) => {
    expect(JID.parse(input).resource).toBe(resource);
  });

  const rejected: [string, string, string][] = [
    ['empty string', '', 'empty domainpart'],
    ['empty localpart', '@example.test', 'empty localpart'],
    ['empty domainpart', 'alice@', 'empty domainpart'],
    ['empty resourcepart', 'alice@example.test/', 'empty resourcepart'],
    ['only a slash', '/', 'empty domainpart'],
    ['C1 control in resource', 'alice@example.test/a\u009f', 'U+009F'],
    ['family emoji with zero width joiners', 'alice@example.test/\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 'U+200D'],
    ['space in localpart', 'al ice@example.test', 'U+0020'],
    ['quote in localpart', 'al"ice@example.test', 'U+0022'],
    ['fullwidth at sign in localpart', 'a\uff20b@example.test', 'U+0040'],
    ['second at sign', 'a@b@example.test', 'domainpart: U+0040'],
    ['underscore in domain', 'a_b.example', 'U+005F'],
    ['label starting with a hyphen', '-a.example', 'hyphen'],
    ['empty label', 'a..example', 'empty label'],
    ['label of 64 characters', `${'a'.repeat(64)}.example`, '63'],
    ['two trailing dots', 'example.test..', 'empty label'],
    ['bad IPv4 address', '1.2.3.256', 'IPv4'],
    ['unclosed IPv6 literal', '[::1', 'IPv6'],
    ['emoji domain', '\u{1f600}.example', 'U+1F600'],
    ['invalid A-label', 'xn--zz.example', 'A-label'],
    ['mixed directions in localpart', 'a\u05d0@example.test', 'Bidi'],
  ];

  it.each(rejected)('rejects %s', (_name, input, reason) => {
    expect(reasonOf(input)).toContain(reason);
  });

  it('accepts a resourcepart of 1023 bytes', () => {
    const resource = '\u00e9'.repeat(511) + 'a';
    expect(JID.parse(`alice@example.test/${resource}`).resource).toBe(resource);
  });

  it('rejects a resourcepart of 1024 bytes', () => {
    expect(reasonOf(`alice@example.test/${'\u00e9'.repeat(512)}`)).toContain('1023 bytes');
  });

  it('rejects an ASCII localpart of 1024 bytes', () => {
    expect(reasonOf(`${'a'.repeat(1024)}@example.test`)).toContain('1023 bytes');
  });

  it('throws a JidError', () => {
    expect(() => JID.parse('@example.test')).toThrow(JidError);
  });
});

describe('JID.parseOrNull', () => {
  it('returns null for a malformed address', () => {
    expect(JID.parseOrNull('alice@')).toBeNull();
  });

  it('returns the address for a valid one', () => {
    expect(JID.parseOrNull('alice@example.test')?.toString()).toBe('alice@example.test');
  });
});

describe('JID methods', () => {
  const full = JID.parse('alice@example.test/phone');

  it('bare drops the resource', () => {
    expect(full.bare().toString()).toBe('alice@example.test');
  });

  it('bare of a bare address is the same object', () => {
    const bare = full.bare();
    expect(bare.bare()).toBe(bare);
  });

  it('isBare is false with a resource', () => {
    expect(full.isBare()).toBe(false);
  });

  it('isBare is true without a resource', () => {
    expect(full.bare().isBare()).toBe(true);
  });

  it('toString of a domain-only address', () => {
    expect(JID.parse('Example.Test').toString()).toBe('example.test');
  });

  it('toString writes prepared parts', () => {
    expect(JID.parse('ALICE@EXAMPLE.TEST/Phone').toString()).toBe('alice@example.test/Phone');
  });

  it('equals an address that prepares to the same parts', () => {
    expect(full.equals(JID.parse('Alice@Example.Test/phone'))).toBe(true);
  });

  it('does not equal an address with another resource case', () => {
    expect(full.equals(JID.parse('alice@example.test/Phone'))).toBe(false);
  });

  it('does not equal null', () => {
    expect(full.equals(null)).toBe(false);
  });

  it('withResource prepares the resource', () => {
    expect(full.withResource('U\u0308').resource).toBe('\u00dc');
  });

  it('withResource rejects an empty resource', () => {
    expect(() => full.withResource('')).toThrow(JidError);
  });
});

describe('jid factory', () => {
  it('prepares the localpart', () => {
    expect(jid('Alice', 'example.test').local).toBe('alice');
  });

  it('prepares the domainpart', () => {
    expect(jid('alice', 'EXAMPLE.test.').domain).toBe('example.test');
  });

  it('keeps the resource case', () => {
    expect(jid('alice', 'example.test', 'Phone').resource).toBe('Phone');
  });

  it('leaves out an empty localpart', () => {
    expect(jid('', 'example.test').toString()).toBe('example.test');
  });

  it('rejects a slash in the localpart', () => {
    expect(() => jid('a/b', 'example.test')).toThrow(JidError);
  });

  it('rejects an at sign in the domainpart', () => {
    expect(() => jid('a', 'b@example.test')).toThrow(JidError);
  });
});
