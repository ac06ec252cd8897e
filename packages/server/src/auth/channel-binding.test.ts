import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import type { SecureVersion, TLSSocket } from 'node:tls';

import { serialize } from '@parley/xmpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  buildChannelBindingFeature,
  certificateSignatureHash,
  channelBindingData,
  channelBindings,
  channelBindingTypes,
} from './channel-binding.js';

interface Pem {
  key: string;
  cert: string;
}

let directory = '';

// Creates a throwaway self-signed certificate with openssl; `keySpec` goes to -newkey.
function makeCertificate(name: string, keySpec: string[], digest: string[]): Pem {
  const keyPath = join(directory, `${name}.key`);
  const certPath = join(directory, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', ...keySpec, ...digest, '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost'],
    { stdio: 'ignore', timeout: 30_000 },
  );
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

interface TlsPair {
  server: TLSSocket;
  client: TLSSocket;
  close: () => Promise<void>;
}

// Starts a TLS server on 127.0.0.1 and connects one client to it.
async function connectPair(pem: Pem, maxVersion: SecureVersion): Promise<TlsPair> {
  let resolveServer: (socket: TLSSocket) => void = () => {};
  const serverSocket = new Promise<TLSSocket>((resolve) => (resolveServer = resolve));
  const server = createServer({ ...pem, minVersion: 'TLSv1.2', maxVersion }, (socket) => resolveServer(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const { port } = server.address() as AddressInfo;
  // The test certificate is self-signed, so the client pins it as its only CA.
  const client = connect({ host: '127.0.0.1', port, ca: pem.cert, servername: 'localhost', checkServerIdentity: () => undefined });
  await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));

  const serverSide = await serverSocket;
  const close = async (): Promise<void> => {
    client.destroy();
    serverSide.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server: serverSide, client, close };
}

let rsaSha256: Pem;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'parley-cb-'));
  rsaSha256 = makeCertificate('rsa-sha256', ['rsa:2048'], ['-sha256']);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('channel binding over TLS 1.3', () => {
  let pair: TlsPair;

  beforeAll(async () => {
    pair = await connectPair(rsaSha256, 'TLSv1.3');
  });

  afterAll(async () => {
    await pair.close();
  });

  it('negotiates TLS 1.3', () => {
    expect(pair.server.getProtocol()).toBe('TLSv1.3');
  });

  it('lists tls-exporter and tls-server-end-point', () => {
    expect(channelBindingTypes(pair.server)).toEqual(['tls-exporter', 'tls-server-end-point']);
  });

  it('computes the same tls-exporter on both ends', () => {
    const clientSide = pair.client.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    expect(channelBindingData(pair.server, 'tls-exporter')?.toString('hex')).toBe(clientSide.toString('hex'));
  });

  it('computes 32 bytes of tls-exporter', () => {
    expect(channelBindingData(pair.server, 'tls-exporter')).toHaveLength(32);
  });

  it('computes tls-server-end-point as SHA-256 of the certificate', () => {
    const clientSide = createHash('sha256').update(pair.client.getPeerCertificate().raw).digest();
    expect(channelBindingData(pair.server, 'tls-server-end-point')?.toString('hex')).toBe(clientSide.toString('hex'));
  });

  it('computes 32 bytes of tls-server-end-point', () => {
    expect(channelBindingData(pair.server, 'tls-server-end-point')).toHaveLength(32);
  });

  it('has no tls-unique', () => {
    expect(channelBindingData(pair.server, 'tls-unique')).toBeNull();
  });

  it('returns data for each listed type', () => {
    expect(channelBindings(pair.server).map((binding) => binding.type)).toEqual(channelBindingTypes(pair.server));
  });
});

describe('channel binding over TLS 1.2', () => {
  let pair: TlsPair;

  beforeAll(async () => {
    pair = await connectPair(rsaSha256, 'TLSv1.2');
  });

  afterAll(async () => {
    await pair.close();
  });

  it('lists tls-server-end-point and tls-unique', () => {
    expect(channelBindingTypes(pair.server)).toEqual(['tls-server-end-point', 'tls-unique']);
  });

  it('uses the client Finished of a full handshake for tls-unique', () => {
    const clientFinished = pair.client.getFinished();
    expect(channelBindingData(pair.server, 'tls-unique')?.toString('hex')).toBe(clientFinished?.toString('hex'));
  });

  it('has no tls-exporter', () => {
    expect(channelBindingData(pair.server, 'tls-exporter')).toBeNull();
  });
});

describe('certificateSignatureHash', () => {
  const cases: [string, string[], string[], string | null][] = [
    ['RSA with SHA-1', ['rsa:2048'], ['-sha1'], 'sha256'],
    ['ECDSA with SHA-384', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-sha384'], 'sha384'],
    ['RSA-PSS with SHA-512', ['rsa:2048'], ['-sha512', '-sigopt', 'rsa_padding_mode:pss'], 'sha512'],
    ['Ed25519', ['ed25519'], [], null],
  ];

  it('reads SHA-256 from an RSA-SHA256 certificate', () => {
    expect(certificateSignatureHash(new X509Certificate(rsaSha256.cert).raw)).toBe('sha256');
  });

  it.each(cases)('reads %s', (name, keySpec, digest, expected) => {
    const pem = makeCertificate(name.replace(/\W+/g, '-'), keySpec, digest);
    expect(certificateSignatureHash(new X509Certificate(pem.cert).raw)).toBe(expected);
  });

  it('returns null for truncated DER', () => {
    const der = new X509Certificate(rsaSha256.cert).raw;
    expect(certificateSignatureHash(der.subarray(0, der.length - 300))).toBeNull();
  });
});

describe('buildChannelBindingFeature', () => {
  it('lists the types in XEP-0440 form', () => {
    const feature = buildChannelBindingFeature(['tls-exporter', 'tls-server-end-point']);
    expect(serialize(feature)).toBe(
      '<sasl-channel-binding xmlns="urn:xmpp:sasl-cb:0"><channel-binding type="tls-exporter"/>' +
        '<channel-binding type="tls-server-end-point"/></sasl-channel-binding>',
    );
  });
});
