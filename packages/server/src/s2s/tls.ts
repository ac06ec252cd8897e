import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, type SecureContext, type TLSSocket, checkServerIdentity, createSecureContext, rootCertificates } from 'node:tls';
import type { CertificatePair } from '../net/certificates.js';
import { chainProblem, parseCertificates } from './certificate-chain.js';
import { ALPN_SERVER } from './namespaces.js';

/**
 * TLS settings of server-to-server streams. Both directions present this server's
 * certificate (as the client certificate when connecting out). Incoming streams check the
 * peer's certificate against the bundled public authorities plus `[s2s] ca_file`.
 */
export class S2sTls {
  /** For incoming streams, with the trusted authorities; each stream requests the peer's certificate but accepts any, so that dialback remains possible. */
  readonly serverContext: SecureContext;
  /** For outgoing streams, built once: presents our certificate as the client certificate, for SASL EXTERNAL. */
  private readonly clientContext: SecureContext;
  private readonly anchors: X509Certificate[];

  constructor(certificate: CertificatePair, caFile: string) {
    const trusted = [...rootCertificates, ...(caFile === '' ? [] : [readCaFile(caFile)])];
    this.anchors = parseCertificates(trusted);
    this.serverContext = createSecureContext({ cert: certificate.cert, key: certificate.key, ca: trusted, minVersion: 'TLSv1.2' });
    this.clientContext = createSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
  }

  /** Options of an outgoing TLS connection to `domain`; the peer's certificate is not checked, because dialback does not need it. */
  clientOptions(domain: string, directTls: boolean): ConnectionOptions {
    return {
      servername: domain,
      secureContext: this.clientContext,
      rejectUnauthorized: false,
      ALPNProtocols: directTls ? [ALPN_SERVER] : undefined,
    };
  }

  /**
   * Says why the peer's certificate does not authenticate `domain`, or returns undefined when
   * it chains to a trusted authority and names `domain` in a DNS subjectAltName (wildcards
   * included, as RFC 6125 allows).
   * TODO: XmppAddr and SRV-ID subjectAltNames (RFC 6120) are not read, because node:tls does not parse otherName.
   */
  certificateProblem(socket: TLSSocket, domain: string): string | undefined {
    const chain = chainProblem(socket, this.anchors);
    if (chain !== undefined) return chain;
    return checkServerIdentity(domain, socket.getPeerCertificate())?.message;
  }
}

function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`s2s.ca_file: cannot read ${file}: ${(err as Error).message}`);
  }
  if (parseCertificates([text]).length === 0) throw new Error(`s2s.ca_file: ${file} contains no PEM certificate`);
  return text;
}
