import { SocketAddress, isIP } from 'node:net';

/**
 * The PROXY protocol of HAProxy, versions 1 (text) and 2 (binary): the header a load balancer
 * writes before the client's first byte, naming the client's address. This file only parses.
 */

/** The v2 signature: it cannot start a TLS record, an XML document or a v1 header. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Maximum length of a v1 line in the specification, CRLF included. */
const V1_MAX_BYTES = 107;
/** Maximum size of an accepted v2 header. It leaves room for TLVs after the addresses, which are skipped. */
export const V2_MAX_BYTES = 2048;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyHeader {
  version: 1 | 2;
  /** `local`: the balancer's own connection (a health check); `proxy`: a client's. */
  command: 'local' | 'proxy';
  /** The client's address; absent for LOCAL, UNKNOWN, UNSPEC and UNIX, for which the socket's address is used. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
}

export type ProxyParse =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  | { status: 'complete'; header: ProxyHeader; bytes: number };

const INCOMPLETE: ProxyParse = { status: 'incomplete' };

const invalid = (reason: string): ProxyParse => ({ status: 'invalid', reason });

/**
 * Parses the PROXY header at the start of `data`. `bytes` is the header's length; what follows
 * it belongs to the client. It does not throw (the tests feed it random bytes). Input that cannot
 * become a valid header is invalid as soon as that is certain, so a caller buffers at most the header's bound.
 */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (startsLike(data, V2_SIGNATURE)) return data.length < V2_SIGNATURE.length ? INCOMPLETE : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? INCOMPLETE : parseV1(data);
  return invalid('the connection does not start with a PROXY protocol signature');
}

/** True when `data` and `prefix` agree on their common length. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const length = Math.min(data.length, prefix.length);
  return data.subarray(0, length).equals(prefix.subarray(0, length));
}

function parseV1(data: Buffer): ProxyParse {
  const end = data.subarray(0, V1_MAX_BYTES).indexOf('\r\n');
  if (end === -1) return data.length >= V1_MAX_BYTES ? invalid(`the v1 header exceeds ${V1_MAX_BYTES} bytes`) : INCOMPLETE;
  const line = data.subarray(V1_PREFIX.length, end).toString('latin1');
  const header = parseV1Fields(line.split(' '));
  return typeof header === 'string' ? invalid(header) : { status: 'complete', header, bytes: end + 2 };
}

/** Returns the header, or the reason the fields are invalid. */
function parseV1Fields(fields: string[]): ProxyHeader | string {
  const [protocol, source, destination, sourcePort, destinationPort, ...extra] = fields;
  // The specification requires receivers to ignore whatever follows UNKNOWN.
  if (protocol === 'UNKNOWN') return { version: 1, command: 'proxy' };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return `unknown v1 protocol ${JSON.stringify(protocol ?? '')}`;
  if (extra.length > 0 || destinationPort === undefined) return 'the v1 header does not have five fields after PROXY';

  const family = protocol === 'TCP4' ? 4 : 6;
  const from = v1Endpoint(source!, sourcePort!, family);
  const to = v1Endpoint(destination!, destinationPort, family);
  if (!from || !to) return 'the v1 header has an invalid address or port';
  return { version: 1, command: 'proxy', source: from, destination: to };
}

function v1Endpoint(address: string, port: string, family: 4 | 6): ProxyEndpoint | undefined {
  if (isIP(address) !== family || address.includes('%')) return undefined;
  if (!/^(0|[1-9][0-9]{0,4})$/.test(port) || Number(port) > 65535) return undefined;
  try {
    return { address: canonicalAddress(address, family), port: Number(port) };
  } catch {
    return undefined;
  }
}

function parseV2(data: Buffer): ProxyParse {
  if (data.length < V2_FIXED_BYTES) return INCOMPLETE;
  const versionCommand = data[12]!;
  const familyTransport = data[13]!;
  const length = data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return invalid(`unsupported v2 version ${versionCommand >> 4}`);
  if (V2_FIXED_BYTES + length > V2_MAX_BYTES) return invalid(`the v2 header exceeds ${V2_MAX_BYTES} bytes`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`unknown v2 command ${command}`);
  if (familyTransport >> 4 > 3 || (familyTransport & 0x0f) > 2) return invalid(`unknown v2 address family or transport 0x${familyTransport.toString(16)}`);
  if (data.length < V2_FIXED_BYTES + length) return INCOMPLETE;

  const bytes = V2_FIXED_BYTES + length;
  // LOCAL carries no client: the receiver keeps the connection's own addresses.
  if (command === 0) return { status: 'complete', header: { version: 2, command: 'local' }, bytes };
  const addresses = data.subarray(V2_FIXED_BYTES, bytes);
  const header = v2Addresses(familyTransport >> 4, addresses);
  return typeof header === 'string' ? invalid(header) : { status: 'complete', header, bytes };
}

/** Reads the address block of a PROXY command for `family`; UNSPEC and UNIX name no IP client. */
function v2Addresses(family: number, block: Buffer): ProxyHeader | string {
  if (family !== 1 && family !== 2) return { version: 2, command: 'proxy' };
  const size = family === 1 ? 4 : 16;
  if (block.length < 2 * size + 4) return `the v2 address block is shorter than ${2 * size + 4} bytes`;
  const source = { address: binaryAddress(block.subarray(0, size)), port: block.readUInt16BE(2 * size) };
  const destination = { address: binaryAddress(block.subarray(size, 2 * size)), port: block.readUInt16BE(2 * size + 2) };
  return { version: 2, command: 'proxy', source, destination };
}

function binaryAddress(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let offset = 0; offset < 16; offset += 2) groups.push(bytes.readUInt16BE(offset).toString(16));
  return canonicalAddress(groups.join(':'), 6);
}

/** Writes an address as Node writes a socket's: compressed IPv6, IPv4-mapped addresses as ::ffff:a.b.c.d. */
function canonicalAddress(address: string, family: 4 | 6): string {
  return new SocketAddress({ address, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
}
