import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { DOMAIN_A, DOMAIN_B, DomainClient, dialbackElement, openRawServerStream, s2sPortOf, startFederatedPair, type FederatedPair } from './support/s2s.js';
import { writeServerCertificate } from './support/s2s-certificates.js';

describe('federation with trusted certificates', () => {
  let folder: string;
  let pair: FederatedPair;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'parley-s2s-certs-'));
    const certA = await writeServerCertificate(folder, DOMAIN_A);
    const certB = await writeServerCertificate(folder, DOMAIN_B);
    pair = await startFederatedPair({
      a: { tls: { cert: certA.cert, key: certA.key }, s2s: { ca_file: certB.cert } },
      b: { tls: { cert: certB.cert, key: certB.key }, s2s: { ca_file: certA.cert } },
    });
    await pair.a.createAccount('alice', 'secret-a');
    await pair.b.createAccount('bob', 'secret-b');
  });

  afterAll(async () => {
    await pair?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('authenticates both directions with SASL EXTERNAL', async () => {
    const alice = await DomainClient.connect(pair.a, 'alice', 'secret-a', { presence: true });
    const bob = await DomainClient.connect(pair.b, 'bob', 'secret-b', { presence: true });

    alice.send(x('message', NS.CLIENT, { to: `bob@${DOMAIN_B}`, type: 'chat' }, x('body', NS.CLIENT, {}, 'signed by a')));
    const message = await bob.next((el) => el.name === 'message', 10_000);
    expect(message.getChildText('body')).toBe('signed by a');
    bob.send(x('message', NS.CLIENT, { to: `alice@${DOMAIN_A}`, type: 'chat' }, x('body', NS.CLIENT, {}, 'signed by b')));
    expect((await alice.next((el) => el.name === 'message', 10_000)).getChildText('body')).toBe('signed by b');

    expect(pair.a.server.federation?.pool.get(DOMAIN_A, DOMAIN_B)?.authMethod).toBe('sasl-external');
    expect(pair.b.server.federation?.pool.get(DOMAIN_B, DOMAIN_A)?.authMethod).toBe('sasl-external');
    await alice.close();
    await bob.close();
  });

  it('offers no EXTERNAL to a peer without a certificate', async () => {
    const { connection, features } = await openRawServerStream(s2sPortOf(pair.b), DOMAIN_A, DOMAIN_B);
    expect(features.getChild('starttls', NS.TLS)?.getChild('required', NS.TLS)).toBeDefined();
    connection.send(dialbackElement('result', { from: DOMAIN_A, to: DOMAIN_B }, 'some-key'));
    expect(await connection.streamError()).toBe('policy-violation');
    connection.destroy();
  });
});
