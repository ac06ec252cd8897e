import { Element } from '@parley/xmpp';

/**
 * Returns a copy of `element` in which every element in namespace `from` is in `to`
 * instead. A component stream qualifies stanzas, and the payloads that inherit the
 * default namespace, with jabber:component:accept; inside the server they are jabber:client.
 */
export function renamespace(element: Element, from: string, to: string): Element {
  const copy = new Element(element.name, element.ns === from ? to : element.ns, { ...element.attrs });
  copy.children = element.children.map((child) => (typeof child === 'string' ? child : renamespace(child, from, to)));
  return copy;
}
