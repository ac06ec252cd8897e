import { describe, expect, it } from 'vitest';
import { normalizePassword, scramProof, scramStart, scramVerify, type ScramExchange, type ScramHash } from './scram.js';

// The example exchanges of RFC 5802 section 5 (SHA-1) and RFC 7677 section 3 (SHA-256),
// user "user", password "pencil".
const EXAMPLES: { hash: ScramHash; nonce: string; serverFirst: string; clientFinal: string; serverFinal: string }[] = [
  {
    hash: 'SHA-1',
    nonce: 'fyko+d2lbbFgONRv9qkxdawL',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    hash: 'SHA-256',
    nonce: 'rOprNGfwEbeRWgbNEkqO',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
];

function exchangeOf(hash: ScramHash, nonce: string): ScramExchange {
  return { hash, nonce, clientFirstBare: `n=user,r=${nonce}` };
}

describe('SCRAM', () => {
  for (const example of EXAMPLES) {
    it(`computes the RFC example proof for ${example.hash} and checks the server signature`, async () => {
      const exchange = exchangeOf(example.hash, example.nonce);
      expect(await scramProof(exchange, example.serverFirst, 'pencil', undefined)).toBe(example.clientFinal);
      const keys = scramVerify(exchange, example.serverFinal);
      expect(keys.iterations).toBe(4096);

      // The kept keys log in again without the password.
      const again = exchangeOf(example.hash, example.nonce);
      expect(await scramProof(again, example.serverFirst, undefined, keys)).toBe(example.clientFinal);
    });
  }

  it('refuses a wrong server signature', async () => {
    const [example] = EXAMPLES;
    const exchange = exchangeOf(example!.hash, example!.nonce);
    await scramProof(exchange, example!.serverFirst, 'pencil', undefined);
    expect(() => scramVerify(exchange, 'v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(/signature is wrong/);
    expect(() => scramVerify(exchange, 'e=invalid-proof')).toThrow(/invalid-proof/);
  });

  it('rejects foreign nonce and stale keys', async () => {
    const [example] = EXAMPLES;
    await expect(scramProof(exchangeOf('SHA-1', 'other'), example!.serverFirst, 'pencil', undefined)).rejects.toThrow(/nonce/);

    const exchange = exchangeOf('SHA-1', example!.nonce);
    await scramProof(exchange, example!.serverFirst, 'pencil', undefined);
    const keys = scramVerify(exchange, example!.serverFinal);
    const newSalt = example!.serverFirst.replace('QSXCR+Q6sek8bf92', 'AAAAAAAAAAAAAAAA');
    await expect(scramProof(exchangeOf('SHA-1', example!.nonce), newSalt, undefined, keys)).rejects.toThrow(/no password/);
  });

  it('escapes the username and starts with the gs2 header', () => {
    const { message, exchange } = scramStart('SHA-256', 'a=b,c');
    expect(message).toBe(`n,,n=a=3Db=2Cc,r=${exchange.nonce}`);
    expect(exchange.nonce.length).toBeGreaterThanOrEqual(24);
  });

  it('maps non-ASCII spaces and composes characters before hashing', () => {
    expect(normalizePassword('a\u00a0b')).toBe('a b');
    expect(normalizePassword('I\u00adX')).toBe('IX');
    expect(normalizePassword('\u2168')).toBe('IX');
  });
});
