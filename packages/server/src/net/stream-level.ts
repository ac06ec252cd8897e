import { Element, NS, escapeAttr, escapeText, serialize } from '@parley/xmpp';

/**
 * Serializes an element of the streams namespace (`<stream:features/>`,
 * `<stream:error/>`) with the `stream:` prefix. On TCP the stream header declares the
 * prefix. A WebSocket frame is parsed on its own, so there the element declares it.
 */
export function serializeStreamLevel(element: Element, declarePrefix: boolean): string {
  let open = `<stream:${element.name}`;
  if (declarePrefix) open += ` xmlns:stream="${NS.STREAM}"`;
  for (const [key, value] of Object.entries(element.attrs)) open += ` ${key}="${escapeAttr(value)}"`;
  const inner = element.children.map((child) => (typeof child === 'string' ? escapeText(child) : serialize(child, NS.STREAM))).join('');
  return `${open}>${inner}</stream:${element.name}>`;
}
