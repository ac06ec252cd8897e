import { describe, expect, it } from 'vitest';

import type { ChannelBinding } from './channel-binding.js';
import { deriveCredentials, verifyPassword } from './credentials.js';
import { createMechanism, decodeSaslPayload, isBareJidOf, listMechanisms } from './mechanisms.js';
import type { MechanismContext } from './mechanisms.js';

describe('decodeSaslPayload', () => {
  const valid: [string, string, string][] = [
    ['no padding', 'dGVz', 'tes'],
    ['two padding characters', 'dGVzdA==', 'test'],
    ['one padding character', 'dGVzdDE=', 'test1'],
    ['NUL bytes', 'AGp1bGlldABzZWNyZXQ=', '\0juliet\0secret'],
  ];

  it.each(valid)('decodes %s', (_name, text, expected) => {
    const decoded = decodeSaslPayload(text);
    expect(decoded).toEqual(Buffer.from(expected, 'latin1'));
  });

  it('returns empty for "="', () => {
    expect(decodeSaslPayload('=')).toBe('empty');
  });

  it('returns empty for no character data', () => {
    expect(decodeSaslPayload('')).toBe('empty');
  });

  const invalid: [string, string][] = [
    ['missing padding', 'dGVzdA'],
    ['inner space', 'dGVz dA=='],
    ['trailing line feed', 'dGVzdA==\n'],
    ['leading space', ' dGVzdA=='],
    ['punctuation', '!!!!'],
    ['URL-safe alphabet', '-_8='],
    ['non-canonical padding bits', 'dGVzdB=='],
    ['padding in the middle', 'dA==dGVz'],
    ['three padding characters', 'dGV==='],
    ['double "="', '=='],
  ];

  it.each(invalid)('rejects %s', (_name, text) => {
    expect(decodeSaslPayload(text)).toBe('invalid');
  });
});

describe('listMechanisms', () => {
  it('offers -PLUS first with channel binding', () => {
    const offered = listMechanisms({ tls: true, loopback: false, channelBindingTypes: ['tls-exporter'], allowPlainWithoutTls: false });
    expect(offered).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  });

  it('omits -PLUS without channel binding', () => {
    const offered = listMechanisms({ tls: true, loopback: false, channelBindingTypes: [], allowPlainWithoutTls: false });
    expect(offered).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  });

  it('omits PLAIN without TLS', () => {
    const offered = listMechanisms({ tls: false, loopback: false, channelBindingTypes: [], allowPlainWithoutTls: true });
    expect(offered).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1']);
  });

  it('offers PLAIN on loopback when allowed', () => {
    const offered = listMechanisms({ tls: false, loopback: true, channelBindingTypes: [], allowPlainWithoutTls: true });
    expect(offered).toContain('PLAIN');
  });

  it('omits PLAIN on loopback when not allowed', () => {
    const offered = listMechanisms({ tls: false, loopback: true, channelBindingTypes: [], allowPlainWithoutTls: false });
    expect(offered).not.toContain('PLAIN');
  });
});

describe('isBareJidOf', () => {
  const cases: [string, boolean][] = [
    ['juliet@example.org', true],
    ['Juliet@Example.ORG', true],
    ['juliet@example.org.', true],
    ['juliet@example.org/balcony', false],
    ['romeo@example.org', false],
    ['juliet@example.com', false],
    ['example.org', false],
    ['@example.org', false],
  ];

  it.each(cases)('%s', (authzid, expected) => {
    expect(isBareJidOf(authzid, 'juliet', 'example.org')).toBe(expected);
  });
});

describe('createMechanism', () => {
  async function context(overrides: Partial<MechanismContext> = {}): Promise<MechanismContext> {
    const credentials = await deriveCredentials('secret', { iterations: 4096 });
    return {
      domain: 'example.org',
      tls: true,
      loopback: false,
      allowPlainWithoutTls: false,
      channelBindings: [],
      lookupScram: async (username, hash) => (username === 'juliet' ? (credentials.find((c) => c.hash === hash) ?? null) : null),
      verifyPlain: async (username, password) => {
        const credential = credentials[0];
        if (username !== 'juliet' || credential === undefined) return 'unknown';
        return (await verifyPassword(password, credential)) ? 'ok' : 'wrong';
      },
      ...overrides,
    };
  }

  it('returns null for an unknown name', async () => {
    expect(createMechanism('DIGEST-MD5', await context())).toBeNull();
  });

  it('returns null for PLAIN without TLS', async () => {
    expect(createMechanism('PLAIN', await context({ tls: false }))).toBeNull();
  });

  it('returns null for -PLUS without channel binding', async () => {
    expect(createMechanism('SCRAM-SHA-256-PLUS', await context())).toBeNull();
  });

  it('creates -PLUS with channel binding', async () => {
    const binding: ChannelBinding = { type: 'tls-exporter', data: Buffer.alloc(32) };
    expect(createMechanism('SCRAM-SHA-1-PLUS', await context({ channelBindings: [binding] }))).not.toBeNull();
  });

  it('creates a SCRAM server for the named hash', async () => {
    const shared = await context();
    const mechanism = createMechanism('SCRAM-SHA-1', shared);
    const step = await mechanism?.start(Buffer.from('n,,n=juliet,r=abc'));
    const salt = /,s=([^,]+),/.exec(step?.kind === 'challenge' ? step.data.toString() : '')?.[1];
    const credential = await shared.lookupScram('juliet', 'SHA-1');
    expect(salt).toBe(credential?.salt.toString('base64'));
  });

  it('accepts the own bare JID as authzid', async () => {
    const mechanism = createMechanism('PLAIN', await context());
    const step = await mechanism?.start(Buffer.from('juliet@example.org\0juliet\0secret'));
    expect(step?.kind).toBe('success');
  });

  it('rejects another authzid', async () => {
    const mechanism = createMechanism('PLAIN', await context());
    const step = await mechanism?.start(Buffer.from('romeo@example.org\0juliet\0secret'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'invalid-authzid' });
  });

  it('keeps not-authorized for a wrong password with an authzid', async () => {
    const mechanism = createMechanism('PLAIN', await context());
    const step = await mechanism?.start(Buffer.from('romeo@example.org\0juliet\0wrong'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });
});
