import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import selfsigned from 'selfsigned';

/** Files of a self-signed certificate made for a test. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/**
 * Writes a self-signed certificate for `domain` and its subdomains into `folder`, usable by a
 * server for both TLS roles (serverAuth and clientAuth), as SASL EXTERNAL between servers needs.
 */
export async function writeServerCertificate(folder: string, domain: string): Promise<CertificateFiles> {
  const pems = selfsigned.generate([{ name: 'commonName', value: domain }], {
    keySize: 2048,
    days: 2,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: domain }, { type: 2, value: `*.${domain}` }] },
    ],
  });
  const files = { cert: path.join(folder, `${domain}.crt`), key: path.join(folder, `${domain}.key`) };
  await writeFile(files.cert, pems.cert);
  await writeFile(files.key, pems.private, { mode: 0o600 });
  return files;
}
