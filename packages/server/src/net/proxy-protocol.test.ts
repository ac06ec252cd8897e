import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { V2_MAX_BYTES, parseProxyHeader } from './proxy-protocol.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header: signature, version and command byte, family and transport byte, then the block with its length. */
function v2(versionCommand: number, familyTransport: number, block: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.concat([SIGNATURE, Buffer.from([versionCommand, familyTransport]), length, block]);
}

/** 203.0.113.7:5678 to 198.51.100.1:5222 */
const IPV4_BLOCK = Buffer.from('cb007107c6336401162e1466', 'hex');
/** 2001:db8::7:5678 to 2001:db8::1:5222 */
const IPV6_BLOCK = Buffer.from('20010db8000000000000000000000007' + '20010db8000000000000000000000001' + '162e1466', 'hex');
const CLIENT_BYTES = Buffer.from("<?xml version='1.0'?>");

function complete(data: Buffer) {
  const result = parseProxyHeader(data);
  if (result.status !== 'complete') throw new Error(`expected a complete header, got ${JSON.stringify(result)}`);
  return result;
}

function reason(data: Buffer): string {
  const result = parseProxyHeader(data);
  if (result.status !== 'invalid') throw new Error(`expected an invalid header, got ${JSON.stringify(result)}`);
  return result.reason;
}

/** Every proper prefix of `header` must wait for more bytes. */
function expectIncompleteUntilTheEnd(header: Buffer): void {
  for (let length = 0; length < header.length; length++) {
    expect(parseProxyHeader(header.subarray(0, length)).status, `after ${length} of ${header.length} bytes`).toBe('incomplete');
  }
}

describe('PROXY protocol version 1', () => {
  it('reads a TCP4 line and leaves the client bytes after it', () => {
    const line = Buffer.from('PROXY TCP4 203.0.113.7 198.51.100.1 5678 5222\r\n');
    const result = complete(Buffer.concat([line, CLIENT_BYTES]));
    expect(result.bytes).toBe(line.length);
    expect(result.header).toEqual({
      version: 1,
      command: 'proxy',
      source: { address: '203.0.113.7', port: 5678 },
      destination: { address: '198.51.100.1', port: 5222 },
    });
  });

  it('writes TCP6 addresses in their compressed form', () => {
    const result = complete(Buffer.from('PROXY TCP6 2001:0DB8:0:0:0:0:0:7 ::1 65535 0\r\n'));
    expect(result.header.source).toEqual({ address: '2001:db8::7', port: 65535 });
    expect(result.header.destination).toEqual({ address: '::1', port: 0 });
  });

  it('names no client for UNKNOWN, whatever follows it', () => {
    expect(complete(Buffer.from('PROXY UNKNOWN\r\n')).header).toEqual({ version: 1, command: 'proxy' });
    expect(complete(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')).header.source).toBeUndefined();
  });

  it('waits for the end of the line', () => {
    expectIncompleteUntilTheEnd(Buffer.from('PROXY TCP4 203.0.113.7 198.51.100.1 5678 5222\r\n'));
  });

  it('rejects a line longer than 107 bytes without waiting for its end', () => {
    expect(reason(Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(93)))).toMatch(/exceeds 107 bytes/);
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(92))).status).toBe('incomplete');
    expect(reason(Buffer.from('PROXY TCP4 ' + '1'.repeat(200) + '\r\n'))).toMatch(/exceeds/);
  });

  it.each([
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 198.51.100.1 5678 5222'],
    ['an IPv4 address under TCP6', 'PROXY TCP6 203.0.113.7 ::1 5678 5222'],
    ['a port above 65535', 'PROXY TCP4 203.0.113.7 198.51.100.1 65536 5222'],
    ['a port with a leading zero', 'PROXY TCP4 203.0.113.7 198.51.100.1 05678 5222'],
    ['a negative port', 'PROXY TCP4 203.0.113.7 198.51.100.1 -1 5222'],
    ['a missing field', 'PROXY TCP4 203.0.113.7 198.51.100.1 5678'],
    ['an extra field', 'PROXY TCP4 203.0.113.7 198.51.100.1 5678 5222 x'],
    ['two spaces', 'PROXY TCP4  203.0.113.7 198.51.100.1 5678 5222'],
    ['a lower-case protocol', 'PROXY tcp4 203.0.113.7 198.51.100.1 5678 5222'],
    ['an address with leading zeros', 'PROXY TCP4 203.000.113.7 198.51.100.1 5678 5222'],
    ['an IPv6 zone', 'PROXY TCP6 fe80::1%eth0 ::1 5678 5222'],
    ['a host name', 'PROXY TCP4 example.org 198.51.100.1 5678 5222'],
  ])('rejects %s', (_name, line) => {
    expect(parseProxyHeader(Buffer.from(line + '\r\n')).status).toBe('invalid');
  });
});

describe('PROXY protocol version 2', () => {
  it('reads an IPv4 PROXY header, skips its TLVs and leaves the client bytes', () => {
    const tlv = Buffer.from([0x02, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]);
    const header = v2(0x21, 0x11, Buffer.concat([IPV4_BLOCK, tlv]));
    const result = complete(Buffer.concat([header, CLIENT_BYTES]));
    expect(result.bytes).toBe(16 + 12 + tlv.length);
    expect(result.header).toEqual({
      version: 2,
      command: 'proxy',
      source: { address: '203.0.113.7', port: 5678 },
      destination: { address: '198.51.100.1', port: 5222 },
    });
  });

  it('reads an IPv6 PROXY header', () => {
    const result = complete(v2(0x21, 0x21, IPV6_BLOCK));
    expect(result.header.source).toEqual({ address: '2001:db8::7', port: 5678 });
    expect(result.header.destination).toEqual({ address: '2001:db8::1', port: 5222 });
  });

  it('writes IPv4-mapped IPv6 addresses as a socket does', () => {
    const block = Buffer.concat([Buffer.from('00000000000000000000ffff7f000001', 'hex'), IPV6_BLOCK.subarray(16)]);
    expect(complete(v2(0x21, 0x21, block)).header.source?.address).toBe('::ffff:127.0.0.1');
  });

  it('names no client for LOCAL, whatever address block it carries', () => {
    expect(complete(v2(0x20, 0x00, Buffer.alloc(0))).header).toEqual({ version: 2, command: 'local' });
    expect(complete(v2(0x20, 0x11, IPV4_BLOCK)).header).toEqual({ version: 2, command: 'local' });
  });

  it('names no client for the UNSPEC and UNIX families', () => {
    expect(complete(v2(0x21, 0x00, Buffer.alloc(0))).header.source).toBeUndefined();
    expect(complete(v2(0x21, 0x31, Buffer.alloc(216))).header.source).toBeUndefined();
  });

  it('waits for the whole header', () => {
    expectIncompleteUntilTheEnd(v2(0x21, 0x11, IPV4_BLOCK));
  });

  it('rejects a header longer than the bound once the length is known', () => {
    const lengthBytes = Buffer.alloc(2);
    lengthBytes.writeUInt16BE(V2_MAX_BYTES - 15);
    const fixed = Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11]), lengthBytes]);
    expect(reason(fixed)).toMatch(/exceeds 2048 bytes/);
    expect(complete(v2(0x21, 0x11, Buffer.concat([IPV4_BLOCK, Buffer.alloc(V2_MAX_BYTES - 16 - 12)]))).bytes).toBe(V2_MAX_BYTES);
  });

  it.each([
    ['version 1 in the binary form', v2(0x11, 0x11, IPV4_BLOCK)],
    ['an unknown command', v2(0x22, 0x11, IPV4_BLOCK)],
    ['an unknown family', v2(0x21, 0x41, IPV4_BLOCK)],
    ['an unknown transport', v2(0x21, 0x13, IPV4_BLOCK)],
    ['an IPv4 block that is too short', v2(0x21, 0x11, IPV4_BLOCK.subarray(0, 11))],
    ['an IPv6 block that is too short', v2(0x21, 0x21, IPV4_BLOCK)],
  ])('rejects %s', (_name, header) => {
    expect(parseProxyHeader(header).status).toBe('invalid');
  });
});

describe('bytes that are no PROXY header', () => {
  it.each([
    ['an XML stream', "<?xml version='1.0'?><stream:stream>"],
    ['an HTTP request', 'GET / HTTP/1.1\r\n'],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00'],
    ['a broken v2 signature', '\r\n\r\n\x00\r\nQUIX'],
    ['PROXY without its space', 'PROXY\r\n'],
  ])('rejects %s at the first byte that differs', (_name, text) => {
    expect(reason(Buffer.from(text, 'latin1'))).toMatch(/signature|v1 protocol/);
  });

  it('never throws on random bytes, with or without a signature in front', () => {
    for (let round = 0; round < 2000; round++) {
      const prefix = [Buffer.alloc(0), SIGNATURE, Buffer.from('PROXY ')][round % 3]!;
      const data = Buffer.concat([prefix, randomBytes(round % 200)]);
      expect(['incomplete', 'invalid', 'complete']).toContain(parseProxyHeader(data).status);
    }
  });
});
