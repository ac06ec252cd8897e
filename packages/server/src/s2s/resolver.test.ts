import type { SrvRecord } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { Resolver, parseHostEntry } from './resolver.js';

/** Returns an SRV lookup over a fixed table in place of DNS. Names without an entry fail like NXDOMAIN. */
function srvTable(table: Record<string, SrvRecord[]>): { lookup: (name: string) => Promise<SrvRecord[]>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup: async (name) => {
      asked.push(name);
      const records = table[name];
      if (!records) throw Object.assign(new Error(`queryNotFound ${name}`), { code: 'ENOTFOUND' });
      return records;
    },
  };
}

describe('s2s resolver', () => {
  it('hosts entry replaces DNS', async () => {
    const dns = srvTable({});
    const resolver = new Resolver({ 'B.Example.Test': '127.0.0.1:5299' }, dns.lookup);
    expect(await resolver.resolve('b.example.test')).toEqual([{ host: '127.0.0.1', port: 5299, directTls: false }]);
    expect(dns.asked).toEqual([]);
  });

  it('hosts entries parse direct TLS and IPv6', () => {
    expect(parseHostEntry('tls://127.0.0.1:5270')).toEqual({ host: '127.0.0.1', port: 5270, directTls: true });
    expect(parseHostEntry('[::1]:5269')).toEqual({ host: '::1', port: 5269, directTls: false });
    expect(() => parseHostEntry('127.0.0.1')).toThrow(/not "host:port"/);
    expect(() => parseHostEntry('127.0.0.1:70000')).toThrow(/not from 1 to 65535/);
  });

  it('hosts entries added later apply', async () => {
    const hosts: Record<string, string> = {};
    const resolver = new Resolver(hosts, srvTable({}).lookup);
    hosts['c.example.test'] = '127.0.0.1:6000';
    expect((await resolver.resolve('c.example.test'))[0]?.port).toBe(6000);
  });

  it('no SRV records fall back to port 5269', async () => {
    const resolver = new Resolver({}, srvTable({}).lookup);
    expect(await resolver.resolve('example.test')).toEqual([{ host: 'example.test', port: 5269, directTls: false }]);
  });

  it('SRV records merge by priority', async () => {
    const dns = srvTable({
      '_xmpps-server._tcp.example.test': [{ name: 'tls.example.test.', port: 5270, priority: 10, weight: 0 }],
      '_xmpp-server._tcp.example.test': [
        { name: 'backup.example.test', port: 5269, priority: 20, weight: 0 },
        { name: 'main.example.test', port: 5269, priority: 10, weight: 0 },
      ],
    });
    const targets = await new Resolver({}, dns.lookup).resolve('example.test');
    expect(targets).toEqual([
      { host: 'tls.example.test', port: 5270, directTls: true },
      { host: 'main.example.test', port: 5269, directTls: false },
      { host: 'backup.example.test', port: 5269, directTls: false },
    ]);
  });

  it('a "." target means no service of that kind', async () => {
    const dns = srvTable({
      '_xmpps-server._tcp.example.test': [{ name: '.', port: 0, priority: 0, weight: 0 }],
      '_xmpp-server._tcp.example.test': [{ name: 'xmpp.example.test', port: 5269, priority: 0, weight: 0 }],
    });
    expect(await new Resolver({}, dns.lookup).resolve('example.test')).toEqual([{ host: 'xmpp.example.test', port: 5269, directTls: false }]);
  });

  it('both sets "." means the domain offers no federation', async () => {
    const dns = srvTable({
      '_xmpps-server._tcp.example.test': [{ name: '.', port: 0, priority: 0, weight: 0 }],
      '_xmpp-server._tcp.example.test': [{ name: '.', port: 0, priority: 0, weight: 0 }],
    });
    expect(await new Resolver({}, dns.lookup).resolve('example.test')).toEqual([]);
  });

  it('weights pick every record in time', async () => {
    const dns = srvTable({
      '_xmpp-server._tcp.example.test': [
        { name: 'heavy.example.test', port: 5269, priority: 0, weight: 90 },
        { name: 'light.example.test', port: 5269, priority: 0, weight: 10 },
      ],
    });
    const resolver = new Resolver({}, dns.lookup);
    const firsts = new Set<string>();
    for (let i = 0; i < 200 && firsts.size < 2; i++) firsts.add((await resolver.resolve('example.test'))[0]!.host);
    expect(firsts).toEqual(new Set(['heavy.example.test', 'light.example.test']));
  });
});
