import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** Maximum number of certificates followed from the peer's certificate to a trust anchor. */
const MAX_DEPTH = 10;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Parses every certificate in PEM texts (one or several blocks each). */
export function parseCertificates(pems: string[]): X509Certificate[] {
  return pems.flatMap((pem) => (pem.match(PEM_BLOCK) ?? []).map((block) => new X509Certificate(block)));
}

/**
 * Checks the peer's certificate chain against `trusted` and returns the problem, or undefined
 * when it chains to a trust anchor with every certificate in its validity period. Needed
 * because a TLSSocket created for STARTTLS in the server role never sets `authorized`; only
 * tls.Server does. Extended key usage is not checked, because many public server certificates
 * no longer carry clientAuth.
 */
export function chainProblem(socket: TLSSocket, trusted: X509Certificate[], now = new Date()): string | undefined {
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return 'no certificate';
  const presented = collectPresented(socket);

  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const expired = validityProblem(current, now);
    if (expired) return expired;
    if (trusted.some((anchor) => anchor.fingerprint256 === current.fingerprint256)) return undefined;
    const anchor = trusted.find((candidate) => issuedBy(current, candidate));
    if (anchor) return validityProblem(anchor, now);
    const issuer = presented.find((candidate) => candidate.ca && candidate.fingerprint256 !== current.fingerprint256 && issuedBy(current, candidate));
    if (!issuer) return `no trusted issuer for ${current.subject.replace(/\n/g, ', ')}`;
    current = issuer;
  }
  return 'the certificate chain is too long';
}

function issuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}

function validityProblem(certificate: X509Certificate, now: Date): string | undefined {
  if (now < new Date(certificate.validFrom)) return `a certificate is not valid before ${certificate.validFrom}`;
  if (now > new Date(certificate.validTo)) return `a certificate expired on ${certificate.validTo}`;
  return undefined;
}

/** Collects the certificates the peer sent, its own first, then the intermediates. */
function collectPresented(socket: TLSSocket): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  let link = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (link && link.raw && !seen.has(link.fingerprint256)) {
    seen.add(link.fingerprint256);
    certificates.push(new X509Certificate(link.raw));
    link = link.issuerCertificate;
  }
  return certificates;
}
