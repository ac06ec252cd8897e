import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, openClientStream } from './support/client.js';

const PASSWORD = 'tls-password';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.createAccount('alice', PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

function certificatePath(): string {
  return path.join(server.dataDir, 'certs', `${server.domain}.crt`);
}

/** Returns the SHA-256 fingerprint of the certificate the server presents after STARTTLS. */
async function presentedFingerprint(): Promise<string> {
  const { connection } = await openClientStream(server, 'starttls');
  const fingerprint = connection.tlsSocket!.getPeerCertificate().fingerprint256;
  connection.destroy();
  return fingerprint;
}

describe('STARTTLS', () => {
  it('upgrades the connection and logs in', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'starttls' });
    expect(alice.connection.tlsSocket?.encrypted).toBe(true);
    expect((await alice.ping()).attr('type')).toBe('result');
    await alice.close();
  });

  it('does not offer STARTTLS again on the encrypted stream', async () => {
    const { connection, features } = await openClientStream(server, 'starttls');
    expect(features.getChild('starttls', NS.TLS)).toBeUndefined();
    connection.destroy();
  });
});

describe('direct TLS', () => {
  it('logs in on the TLS port', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'tls' });
    expect(alice.connection.tlsSocket?.encrypted).toBe(true);
    expect((await alice.ping()).attr('type')).toBe('result');
    await alice.close();
  });

  it('negotiates the xmpp-client ALPN protocol', async () => {
    const { connection, features } = await openClientStream(server, 'tls');
    expect(connection.tlsSocket?.alpnProtocol).toBe('xmpp-client');
    expect(features.getChild('starttls', NS.TLS)).toBeUndefined();
    connection.destroy();
  });
});

describe('plaintext on loopback', () => {
  it('logs in without TLS from 127.0.0.1', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'plain' });
    expect(alice.connection.tlsSocket).toBeUndefined();
    expect((await alice.ping()).attr('type')).toBe('result');
    await alice.close();
  });
});

describe('self-signed certificate', () => {
  it('is written under data_dir/certs for the domain', async () => {
    const certificate = new X509Certificate(await readFile(certificatePath()));
    expect(certificate.subjectAltName).toContain(`DNS:${server.domain}`);
    expect(await presentedFingerprint()).toBe(certificate.fingerprint256);
  });

  it('is reused after a restart', async () => {
    const before = await readFile(certificatePath(), 'utf8');
    const fingerprint = await presentedFingerprint();
    await server.restart();
    expect(await readFile(certificatePath(), 'utf8')).toBe(before);
    expect(await presentedFingerprint()).toBe(fingerprint);

    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    expect((await alice.ping()).attr('type')).toBe('result');
    await alice.close();
  });
});
