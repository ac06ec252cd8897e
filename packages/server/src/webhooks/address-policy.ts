/**
 * Which webhook URLs the server may call. Only http and https URLs are accepted. Unless
 * `webhooks.allow_private_addresses` is set, the server never connects to a loopback,
 * private, link-local, shared, documentation, multicast or otherwise non-public address:
 * an IP literal in the URL is checked when the endpoint is saved and before every attempt,
 * and a host name is checked on every lookup, against every address it resolves to, so
 * that a name which later resolves elsewhere (DNS rebinding) is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, type LookupFunction, isIP } from 'node:net';

/** A URL that the webhook address policy rejects; the message gives the reason. */
export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

/** The longest URL accepted, in characters. */
const MAX_URL_LENGTH = 2048;

const IPV4_NON_PUBLIC: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

// IPv4-mapped addresses match the IPv4 list; NAT64 and 6to4 embed IPv4 addresses that may be private.
const IPV6_NON_PUBLIC: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const nonPublic = new BlockList();
for (const [network, prefix] of IPV4_NON_PUBLIC) nonPublic.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_NON_PUBLIC) nonPublic.addSubnet(network, prefix, 'ipv6');

/** True when `address` (an IP address) is routable on the public Internet. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !nonPublic.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's host without the brackets of an IPv6 literal. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Parses and checks an endpoint URL: http or https, no user name or password, and with
 * `allowPrivate` false, no non-public IP literal and no localhost name. Throws WebhookUrlError.
 */
export function parseWebhookUrl(text: string, allowPrivate: boolean): URL {
  if (text.length > MAX_URL_LENGTH) throw new WebhookUrlError(`The URL is longer than ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('The URL is not a valid absolute URL.');
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookUrlError('The URL must use http or https.');
  if (url.username !== '' || url.password !== '') throw new WebhookUrlError('The URL must not contain a user name or password; use the signature to authenticate the sender.');
  checkHost(url, allowPrivate);
  return url;
}

/** Throws WebhookUrlError when the URL names a host the policy refuses without looking it up. */
export function checkHost(url: URL, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const host = urlHost(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) throw new WebhookUrlError(`The host ${host} is not a public address.`);
  if (isIP(host) !== 0 && !isPublicAddress(host)) throw new WebhookUrlError(`The address ${host} is not a public address.`);
}

/**
 * Returns the DNS lookup for outgoing webhook connections: the system resolver, failing
 * with WebhookUrlError when any address the name resolves to is not public.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = allowPrivate ? undefined : addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) return callback(new WebhookUrlError(`The host ${hostname} resolves to the non-public address ${refused.address}.`), '', 0);
      if (options.all === true) return (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new WebhookUrlError(`The host ${hostname} has no address.`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
