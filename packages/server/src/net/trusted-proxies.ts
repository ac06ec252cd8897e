import { BlockList, isIP } from 'node:net';

/**
 * A set of addresses and CIDR ranges (`10.0.0.5`, `10.0.0.0/24`, `2001:db8::/32`): the load
 * balancers whose word on a client's address is taken, by `[listen] proxy_protocol_from` and
 * `[http] trusted_proxies`. IPv4-mapped IPv6 addresses match their IPv4 entries.
 */
export class TrustedProxies {
  private readonly list = new BlockList();

  /** Throws on an entry that `addressRangeError` rejects; the configuration checks them at load. */
  constructor(readonly entries: readonly string[]) {
    for (const entry of entries) {
      const range = parseAddressRange(entry);
      if (!range) throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR range`);
      if (range.prefix === undefined) this.list.addAddress(range.address, range.family);
      else this.list.addSubnet(range.address, range.prefix, range.family);
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** True when `address` (as a socket or X-Forwarded-For gives it) is listed; false for anything that is not an IP address. */
  includes(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

interface AddressRange {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix?: number;
}

/** Returns why `entry` is not an address or CIDR range, or undefined when it is one. */
export function addressRangeError(entry: string): string | undefined {
  return parseAddressRange(entry) ? undefined : 'not an IP address or CIDR range (such as 10.0.0.5 or 10.0.0.0/24)';
}

function parseAddressRange(entry: string): AddressRange | undefined {
  const [address = '', prefix, ...rest] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0 || address.includes('%')) return undefined;
  const range: AddressRange = { address, family: family === 4 ? 'ipv4' : 'ipv6' };
  if (prefix === undefined) return range;

  const bits = family === 4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > bits) return undefined;
  return { ...range, prefix: Number(prefix) };
}

/**
 * Returns the client address of an HTTP request: Fastify's `request.ip`, which with `[http]
 * trusted_proxies` is the right-most X-Forwarded-For entry not listed. A malformed entry from a
 * trusted proxy becomes 'unknown', so that its text never counts as an address.
 */
export function clientAddress(request: { ip: string }): string {
  return isIP(request.ip) === 0 ? 'unknown' : request.ip;
}
