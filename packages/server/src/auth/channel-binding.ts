import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

import { x } from '@parley/xmpp';
import type { Element } from '@parley/xmpp';

/** Namespace of XEP-0440 (SASL Channel-Binding Type Capability). */
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';

/** Channel binding types this server can compute, in order of preference. */
export const CHANNEL_BINDING_TYPES = ['tls-exporter', 'tls-server-end-point', 'tls-unique'] as const;

/** A channel binding type name as used in the SCRAM GS2 header and XEP-0440. */
export type ChannelBindingType = (typeof CHANNEL_BINDING_TYPES)[number];

/** Channel binding data of one TLS connection for one binding type. */
export interface ChannelBinding {
  type: ChannelBindingType;
  data: Buffer;
}

/** Returns the binding types that can be computed for a server-side TLS socket, in order of preference. */
export function channelBindingTypes(socket: TLSSocket): ChannelBindingType[] {
  return CHANNEL_BINDING_TYPES.filter((type) => channelBindingData(socket, type) !== null);
}

/** Returns the binding data of every type that can be computed for a server-side TLS socket. */
export function channelBindings(socket: TLSSocket): ChannelBinding[] {
  const bindings: ChannelBinding[] = [];
  for (const type of CHANNEL_BINDING_TYPES) {
    const data = channelBindingData(socket, type);
    if (data !== null) bindings.push({ type, data });
  }
  return bindings;
}

/**
 * Computes the channel binding data of a server-side TLS socket, or returns null
 * when the type is not defined for the connection's TLS version or certificate.
 */
export function channelBindingData(socket: TLSSocket, type: ChannelBindingType): Buffer | null {
  const protocol = socket.encrypted ? socket.getProtocol() : null;
  if (protocol === null) return null;

  switch (type) {
    case 'tls-exporter':
      return tlsExporter(socket, protocol);
    case 'tls-server-end-point':
      return tlsServerEndPoint(socket);
    case 'tls-unique':
      return tlsUnique(socket, protocol);
  }
}

// RFC 9266 section 2. The label is fixed and the context is empty. Over TLS 1.2 the
// exporter is only safe with the extended master secret (RFC 7627), which Node does
// not report, so tls-exporter is offered for TLS 1.3 only.
function tlsExporter(socket: TLSSocket, protocol: string): Buffer | null {
  if (protocol !== 'TLSv1.3') return null;
  return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
}

// RFC 5929 section 4.1: the hash of the server's own certificate (DER), with the
// certificate's signature hash, where MD5 and SHA-1 become SHA-256.
function tlsServerEndPoint(socket: TLSSocket): Buffer | null {
  const certificate = socket.getCertificate();
  if (certificate === null || !('raw' in certificate) || !Buffer.isBuffer(certificate.raw)) return null;

  const hash = certificateSignatureHash(certificate.raw);
  if (hash === null) return null;
  return createHash(hash).update(certificate.raw).digest();
}

// RFC 5929 section 3.1: the first Finished message of the most recent handshake. In a
// full handshake the client sends Finished first; in an abbreviated (resumed) one the
// server does. tls-unique is not defined for TLS 1.3 (RFC 8446 section C.5).
// NOTE: without the extended master secret tls-unique is open to the triple handshake attack.
function tlsUnique(socket: TLSSocket, protocol: string): Buffer | null {
  if (protocol === 'TLSv1.3') return null;
  const finished = socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished();
  return finished ?? null;
}

/** Builds the XEP-0440 stream feature that lists the binding types the server supports. */
export function buildChannelBindingFeature(types: readonly ChannelBindingType[]): Element {
  return x(
    'sasl-channel-binding',
    NS_SASL_CB,
    {},
    ...types.map((type) => x('channel-binding', NS_SASL_CB, { type })),
  );
}

// Signature algorithm OIDs mapped to the hash tls-server-end-point uses (RFC 5929
// section 4.1: MD5 and SHA-1 become SHA-256).
const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
};

// Hash algorithm OIDs that can appear in RSASSA-PSS parameters.
const DIGEST_HASHES: Record<string, string> = {
  '1.2.840.113549.2.5': 'sha256', // md5
  '1.3.14.3.2.26': 'sha256', // sha1
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/**
 * Returns the node:crypto hash name that tls-server-end-point uses for a DER
 * certificate, or null when RFC 5929 defines none for its signature algorithm
 * (for example Ed25519) or the DER cannot be parsed.
 */
export function certificateSignatureHash(der: Buffer): string | null {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue }
  const certificate = readTlv(der, 0);
  if (certificate?.tag !== 0x30) return null;
  const tbs = readTlv(der, certificate.start);
  if (tbs?.tag !== 0x30) return null;
  const algorithm = readTlv(der, tbs.end);
  if (algorithm?.tag !== 0x30) return null;

  const oid = readTlv(der, algorithm.start);
  if (oid?.tag !== 0x06) return null;
  const name = decodeOid(der.subarray(oid.start, oid.end));
  if (name !== RSASSA_PSS) return SIGNATURE_HASHES[name] ?? null;

  return pssHash(der, oid.end, algorithm.end);
}

// RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... } (RFC 4055 section 3.1)
function pssHash(der: Buffer, offset: number, end: number): string | null {
  if (offset >= end) return 'sha256';
  const params = readTlv(der, offset);
  if (params?.tag !== 0x30) return null;
  if (params.start === params.end) return 'sha256';

  const first = readTlv(der, params.start);
  if (first === null) return null;
  if (first.tag !== 0xa0) return 'sha256';

  const hashAlgorithm = readTlv(der, first.start);
  if (hashAlgorithm?.tag !== 0x30) return null;
  const oid = readTlv(der, hashAlgorithm.start);
  if (oid?.tag !== 0x06) return null;
  return DIGEST_HASHES[decodeOid(der.subarray(oid.start, oid.end))] ?? null;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

// Reads one DER tag-length-value at offset. Returns null when it runs past the buffer.
function readTlv(der: Buffer, offset: number): Tlv | null {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined) return null;

  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) return null;
    length = der.readUIntBE(start, count);
    start += count;
  }

  const end = start + length;
  return end <= der.length ? { tag, start, end } : null;
}

function decodeOid(bytes: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (parts.length === 0) {
      // The first subidentifier packs the first two arcs as 40 * first + second (X.690 section 8.19.4).
      const firstArc = Math.min(Math.floor(value / 40), 2);
      parts.push(firstArc, value - firstArc * 40);
    } else {
      parts.push(value);
    }
    value = 0;
  }
  return parts.join('.');
}
