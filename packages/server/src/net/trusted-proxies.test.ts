import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config.js';
import { TrustedProxies, addressRangeError, clientAddress } from './trusted-proxies.js';

describe('TrustedProxies', () => {
  const trusted = new TrustedProxies(['10.0.0.5', '192.0.2.0/24', '2001:db8::/32', '::1']);

  it('matches listed addresses and ranges only', () => {
    expect(trusted.includes('10.0.0.5')).toBe(true);
    expect(trusted.includes('10.0.0.6')).toBe(false);
    expect(trusted.includes('192.0.2.200')).toBe(true);
    expect(trusted.includes('192.0.3.1')).toBe(false);
    expect(trusted.includes('2001:db8:ffff::1')).toBe(true);
    expect(trusted.includes('2001:db9::1')).toBe(false);
    expect(trusted.includes('::1')).toBe(true);
    expect(trusted.includes('127.0.0.1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses, as dual-stack sockets report them', () => {
    expect(trusted.includes('::ffff:10.0.0.5')).toBe(true);
    expect(trusted.includes('::ffff:192.0.2.9')).toBe(true);
    expect(trusted.includes('::ffff:10.0.0.6')).toBe(false);
  });

  it('matches nothing that is not an IP address', () => {
    expect(trusted.includes('')).toBe(false);
    expect(trusted.includes('unknown')).toBe(false);
    expect(trusted.includes('10.0.0.5:80')).toBe(false);
  });

  it('is empty without entries', () => {
    expect(new TrustedProxies([]).empty).toBe(true);
    expect(trusted.empty).toBe(false);
  });
});

describe('addressRangeError', () => {
  it.each(['10.0.0.5', '10.0.0.0/8', '0.0.0.0/0', '::/0', '2001:db8::/128', '::ffff:10.0.0.5'])('accepts %s', (entry) => {
    expect(addressRangeError(entry)).toBeUndefined();
  });

  it.each(['', 'localhost', '10.0.0', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', 'fe80::1%eth0', '10.0.0.0/x'])('rejects %s', (entry) => {
    expect(addressRangeError(entry)).toBeDefined();
  });

  it('stops the configuration with the key and the entry', () => {
    expect(() => validateConfig({ listen: { proxy_protocol_from: ['10.0.0.5', '10.0.0.0/40'] } })).toThrow(
      'listen.proxy_protocol_from.1 = "10.0.0.0/40" is not an IP address or CIDR range',
    );
    expect(() => validateConfig({ http: { trusted_proxies: ['proxy.example'] } })).toThrow('http.trusted_proxies.0 = "proxy.example"');
    const config = validateConfig({ listen: { proxy_protocol_from: ['10.0.0.0/24'] }, http: { trusted_proxies: ['::1'] } });
    expect(config.listen.proxy_protocol_from).toEqual(['10.0.0.0/24']);
    expect(config.http.trusted_proxies).toEqual(['::1']);
    expect(validateConfig({}).http.trusted_proxies).toEqual([]);
  });
});

describe('clientAddress', () => {
  it('passes IP addresses and replaces anything else', () => {
    expect(clientAddress({ ip: '203.0.113.7' })).toBe('203.0.113.7');
    expect(clientAddress({ ip: '2001:db8::7' })).toBe('2001:db8::7');
    expect(clientAddress({ ip: 'not-an-address' })).toBe('unknown');
  });
});
