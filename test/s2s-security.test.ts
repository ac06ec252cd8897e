import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { DialbackKeys } from '../packages/server/src/s2s/dialback-key.js';
import type { RawConnection } from './support/raw.js';
import { DOMAIN_A, DOMAIN_B, DomainClient, connectRawServerStream, dialbackElement, openRawServerStream, s2sPortOf, startFederatedPair, type FederatedPair } from './support/s2s.js';

const SECRET_A = 'dialback secret of a';
const DIALBACK = 'jabber:server:dialback';

/** Authenticates a raw connection to b as a.example.test with a key a's server will confirm. */
async function dialbackAsA(pair: FederatedPair): Promise<RawConnection> {
  const { connection } = await openRawServerStream(s2sPortOf(pair.b), DOMAIN_A, DOMAIN_B);
  const streamId = connection.header?.attr('id') ?? '';
  const key = new DialbackKeys(SECRET_A).generate(DOMAIN_B, DOMAIN_A, streamId);
  connection.send(dialbackElement('result', { from: DOMAIN_A, to: DOMAIN_B }, key));
  const result = await connection.next((el) => el.name === 'result' && el.ns === DIALBACK, 10_000);
  expect(result.attr('type')).toBe('valid');
  return connection;
}

describe('incoming server-to-server streams', () => {
  let pair: FederatedPair;

  beforeAll(async () => {
    // Plaintext on loopback lets the raw test peer skip TLS; the servers still use STARTTLS between themselves.
    pair = await startFederatedPair({
      s2s: { allow_plaintext_on_loopback: true },
      a: { s2s: { dialback_secret: SECRET_A } },
      b: { sessions: { max_stanza_bytes: 10_000 } },
    });
    await pair.b.createAccount('bob', 'secret-b');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('valid dialback lets stanzas in', async () => {
    const bob = await DomainClient.connect(pair.b, 'bob', 'secret-b', { presence: true });
    const connection = await dialbackAsA(pair);
    connection.send(x('message', NS.SERVER, { from: `alice@${DOMAIN_A}/desk`, to: `bob@${DOMAIN_B}`, type: 'chat' }, x('body', NS.SERVER, {}, 'via raw peer')));
    const message = await bob.next((el) => el.name === 'message', 5000);
    expect(message.getChildText('body')).toBe('via raw peer');
    expect(message.attr('from')).toBe(`alice@${DOMAIN_A}/desk`);
    connection.destroy();
    await bob.close();
  });

  it('forged from domain ends the stream with invalid-from', async () => {
    const connection = await dialbackAsA(pair);
    connection.send(x('message', NS.SERVER, { from: 'mallory@evil.example.test', to: `bob@${DOMAIN_B}` }, x('body', NS.SERVER, {}, 'forged')));
    expect(await connection.streamError()).toBe('invalid-from');
    connection.destroy();
  });

  it('unknown to domain ends the stream with host-unknown', async () => {
    const connection = await dialbackAsA(pair);
    connection.send(x('message', NS.SERVER, { from: `alice@${DOMAIN_A}`, to: 'carol@c.example.test' }, x('body', NS.SERVER, {}, 'relay me')));
    expect(await connection.streamError()).toBe('host-unknown');
    connection.destroy();
  });

  it('stanza without to ends the stream with improper-addressing', async () => {
    const connection = await dialbackAsA(pair);
    connection.send(x('message', NS.SERVER, { from: `alice@${DOMAIN_A}` }, x('body', NS.SERVER, {}, 'nowhere')));
    expect(await connection.streamError()).toBe('improper-addressing');
    connection.destroy();
  });

  it('oversized stanza ends the stream with policy-violation', async () => {
    const connection = await dialbackAsA(pair);
    connection.send(x('message', NS.SERVER, { from: `alice@${DOMAIN_A}`, to: `bob@${DOMAIN_B}` }, x('body', NS.SERVER, {}, 'x'.repeat(12_000))));
    expect(await connection.streamError()).toBe('policy-violation');
    connection.destroy();
  });

  it('wrong dialback key is rejected', async () => {
    const { connection } = await openRawServerStream(s2sPortOf(pair.b), DOMAIN_A, DOMAIN_B);
    connection.send(dialbackElement('result', { from: DOMAIN_A, to: DOMAIN_B }, 'f'.repeat(64)));
    const result = await connection.next((el) => el.name === 'result' && el.ns === DIALBACK, 10_000);
    expect(result.attr('type')).toBe('invalid');
    expect(await connection.streamError()).toBe('not-authorized');
    connection.destroy();
  });

  it('stanza before authentication ends the stream with not-authorized', async () => {
    const { connection } = await openRawServerStream(s2sPortOf(pair.b), DOMAIN_A, DOMAIN_B);
    connection.send(x('message', NS.SERVER, { from: `alice@${DOMAIN_A}`, to: `bob@${DOMAIN_B}` }, x('body', NS.SERVER, {}, 'too early')));
    expect(await connection.streamError()).toBe('not-authorized');
    connection.destroy();
  });

  it('stream to a domain not served ends with host-unknown', async () => {
    const connection = await connectRawServerStream(s2sPortOf(pair.b), DOMAIN_A, 'c.example.test');
    expect(await connection.streamError()).toBe('host-unknown');
    connection.destroy();
  });

  it('client namespace ends the stream with invalid-namespace', async () => {
    const connection = await connectRawServerStream(s2sPortOf(pair.b), DOMAIN_A, DOMAIN_B, NS.CLIENT);
    expect(await connection.streamError()).toBe('invalid-namespace');
    connection.destroy();
  });

  it('dialback verify answers for our own keys only', async () => {
    // The raw peer plays b.example.test asking a.example.test about a key.
    const { connection } = await openRawServerStream(s2sPortOf(pair.a), DOMAIN_B, DOMAIN_A);
    const good = new DialbackKeys(SECRET_A).generate(DOMAIN_B, DOMAIN_A, 'stream-1');
    connection.send(dialbackElement('verify', { from: DOMAIN_B, to: DOMAIN_A, id: 'stream-1' }, good));
    connection.send(dialbackElement('verify', { from: DOMAIN_B, to: DOMAIN_A, id: 'stream-2' }, good));
    const first = await connection.next((el) => el.name === 'verify' && el.attr('id') === 'stream-1', 5000);
    const second = await connection.next((el) => el.name === 'verify' && el.attr('id') === 'stream-2', 5000);
    expect(first.attr('type')).toBe('valid');
    expect(second.attr('type')).toBe('invalid');
    connection.destroy();
  });
});
