import { promises as dns, type SrvRecord } from 'node:dns';

/** One address to try for a remote domain. */
export interface Target {
  host: string;
  port: number;
  /** TLS from the first byte (XEP-0368) instead of STARTTLS. */
  directTls: boolean;
}

/** The DNS query the resolver needs; tests and the hosts map never reach the real one. */
export type SrvLookup = (name: string) => Promise<SrvRecord[]>;

const DEFAULT_PORT = 5269;
const HOST_ENTRY = /^(tls:\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/;

/**
 * Finds where a remote domain's server listens: an `[s2s] hosts` entry when there is one,
 * else the SRV records `_xmpps-server._tcp` (direct TLS, XEP-0368) and `_xmpp-server._tcp`
 * (RFC 6120), merged by priority, else the domain itself on port 5269. Host names
 * in the result are resolved to A/AAAA addresses by the connection.
 */
export class Resolver {
  /**
   * `hosts` is read on every lookup, so entries changed at run time apply to the next
   * connection; keys are compared in lower case.
   */
  constructor(
    private readonly hosts: Record<string, string>,
    private readonly lookupSrv: SrvLookup = (name) => dns.resolveSrv(name),
  ) {
    for (const entry of Object.values(hosts)) parseHostEntry(entry);
  }

  async resolve(domain: string): Promise<Target[]> {
    const configured = Object.entries(this.hosts).find(([name]) => name.toLowerCase() === domain);
    if (configured) return [parseHostEntry(configured[1])];

    const [direct, starttls] = await Promise.all([this.srv(`_xmpps-server._tcp.${domain}`, true), this.srv(`_xmpp-server._tcp.${domain}`, false)]);
    if (direct === undefined && starttls === undefined) return [{ host: domain, port: DEFAULT_PORT, directTls: false }];
    return orderByPriority([...(direct ?? []), ...(starttls ?? [])]);
  }

  /** Returns the records of `name`, [] when they mark the service as absent ("."), undefined when there are none. */
  private async srv(name: string, directTls: boolean): Promise<(SrvRecord & { directTls: boolean })[] | undefined> {
    let records: SrvRecord[];
    try {
      records = await this.lookupSrv(name);
    } catch {
      // NXDOMAIN, no data or a failed lookup all mean: use the other record set or the fallback.
      return undefined;
    }
    if (records.length === 0) return undefined;
    if (records.length === 1 && (records[0]!.name === '' || records[0]!.name === '.')) return [];
    return records.map((record) => ({ ...record, name: record.name.replace(/\.$/, ''), directTls }));
  }
}

/** Parses a hosts map value: "host:port", "[v6]:port", or either after "tls://". */
export function parseHostEntry(entry: string): Target {
  const match = HOST_ENTRY.exec(entry);
  if (!match) throw new Error(`s2s.hosts: "${entry}" is not "host:port" or "tls://host:port"`);
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) throw new Error(`s2s.hosts: the port in "${entry}" is not from 1 to 65535`);
  return { host: match[2]!.replace(/^\[|\]$/g, ''), port, directTls: match[1] !== undefined };
}

/**
 * Orders records by priority, and within one priority by a weighted random draw (RFC 2782).
 * Among records of equal priority whose weights are all zero, direct TLS comes first.
 */
function orderByPriority(records: (SrvRecord & { directTls: boolean })[]): Target[] {
  const priorities = [...new Set(records.map((record) => record.priority))].sort((a, b) => a - b);
  const ordered: Target[] = [];
  for (const priority of priorities) {
    const group = records.filter((record) => record.priority === priority).sort((a, b) => Number(b.directTls) - Number(a.directTls));
    while (group.length > 0) {
      const picked = group.splice(pickWeighted(group), 1)[0]!;
      ordered.push({ host: picked.name, port: picked.port, directTls: picked.directTls });
    }
  }
  return ordered;
}

function pickWeighted(group: SrvRecord[]): number {
  const total = group.reduce((sum, record) => sum + record.weight, 0);
  if (total === 0) return 0;
  let draw = Math.random() * total;
  for (const [index, record] of group.entries()) {
    draw -= record.weight;
    if (draw < 0) return index;
  }
  return group.length - 1;
}
