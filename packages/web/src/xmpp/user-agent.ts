import { x, type XElement } from './element.js';
import { NS } from './ns.js';

/** The SASL2 `<user-agent/>` (XEP-0388): a stable id per device, the software and the device's name. */
export interface UserAgent {
  /** A UUID that stays the same for this browser profile; the server ties resources and FAST tokens to it. */
  id: string;
  software: string;
  device: string;
}

export const SOFTWARE_NAME = 'Parley Web';

/** Builds the `<user-agent/>` element. */
export function userAgentElement(agent: UserAgent): XElement {
  return x('user-agent', NS.SASL2, { id: agent.id }, x('software', NS.SASL2, {}, agent.software), x('device', NS.SASL2, {}, agent.device));
}

/** Creates a user agent with a fresh id, for a client that has no stored one (Node tests, a first start). */
export function freshUserAgent(): UserAgent {
  return { id: crypto.randomUUID(), software: SOFTWARE_NAME, device: browserName() };
}

interface BrandedNavigator {
  userAgent?: string;
  userAgentData?: { brands?: { brand: string }[] };
}

/** Returns the browser's name for `<device/>`, such as "Chromium" or "Firefox"; "Browser" when unknown. */
export function browserName(): string {
  const nav = (globalThis as { navigator?: BrandedNavigator }).navigator;
  const brand = nav?.userAgentData?.brands?.map((item) => item.brand).find((name) => !/not.?a.?brand/i.test(name));
  if (brand) return brand;

  const agent = nav?.userAgent ?? '';
  const known: [RegExp, string][] = [
    [/Edg\//, 'Edge'],
    [/Firefox\//, 'Firefox'],
    [/Chromium\//, 'Chromium'],
    [/Chrome\//, 'Chrome'],
    [/Safari\//, 'Safari'],
  ];
  return known.find(([pattern]) => pattern.test(agent))?.[1] ?? 'Browser';
}
