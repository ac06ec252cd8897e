import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import selfsigned from 'selfsigned';
import type { Config } from '../config.js';

export interface CertificatePair {
  cert: string;
  key: string;
  certPath: string;
}

/**
 * Loads the configured certificate, or the self-signed one for the domain under
 * DATA_DIR/certs, generating it on first start (valid for the domain and its
 * subdomains, for ten years).
 */
export function loadCertificate(config: Config, log: Logger): CertificatePair {
  if (config.tls.cert) {
    return { cert: readFileSync(config.tls.cert, 'utf8'), key: readFileSync(config.tls.key, 'utf8'), certPath: config.tls.cert };
  }
  const folder = path.join(config.data_dir, 'certs');
  const certPath = path.join(folder, `${config.domain}.crt`);
  const keyPath = path.join(folder, `${config.domain}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const generated = generateSelfSigned(config.domain);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, generated.key, { mode: 0o600 });
    writeFileSync(certPath, generated.cert);
    log.warn({ certPath, keyPath }, 'no TLS certificate configured: wrote a self-signed one');
  }
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath };
}

function generateSelfSigned(domain: string): { cert: string; key: string } {
  const pems = selfsigned.generate([{ name: 'commonName', value: domain }], {
    keySize: 2048,
    days: 3650,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: domain }, { type: 2, value: `*.${domain}` }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export function secureContextFor(pair: CertificatePair): SecureContext {
  return createSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
}
