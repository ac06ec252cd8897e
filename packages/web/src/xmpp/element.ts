/** A child of an element: another element or character data. */
export type XNode = XElement | string;

export type XAttrs = Record<string, string | number | undefined>;

/**
 * An XML element with a resolved namespace, shaped like @parley/xmpp's `Element` so that code
 * reads the same on both sides. `attrs` holds every attribute except namespace declarations,
 * under its qualified name (`xml:lang`). Serializing writes `xmlns` where an element's
 * namespace differs from its parent's, so a stanza always carries its namespace in a frame.
 */
export class XElement {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: XNode[];

  constructor(name: string, ns: string, attrs: XAttrs = {}, children: XNode[] = []) {
    this.name = name;
    this.ns = ns;
    this.attrs = {};
    for (const [key, value] of Object.entries(attrs)) {
      if (value !== undefined) this.attrs[key] = String(value);
    }
    this.children = children;
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  setAttr(name: string, value: string | number | undefined): this {
    if (value === undefined) delete this.attrs[name];
    else this.attrs[name] = String(value);
    return this;
  }

  /** Returns the first child element with this name, in `ns` or, without `ns`, in any namespace. */
  getChild(name: string, ns?: string): XElement | undefined {
    return this.elements().find((child) => child.name === name && (ns === undefined || child.ns === ns));
  }

  getChildren(name?: string, ns?: string): XElement[] {
    return this.elements().filter((child) => (name === undefined || child.name === name) && (ns === undefined || child.ns === ns));
  }

  /** Returns the first child element in namespace `ns`, whatever its name. */
  getChildByNs(ns: string): XElement | undefined {
    return this.elements().find((child) => child.ns === ns);
  }

  elements(): XElement[] {
    return this.children.filter((child): child is XElement => typeof child !== 'string');
  }

  /** The concatenated character data of the direct text children. */
  text(): string {
    return this.children.filter((child): child is string => typeof child === 'string').join('');
  }

  getChildText(name: string, ns?: string): string | undefined {
    return this.getChild(name, ns)?.text();
  }

  append(...nodes: (XNode | undefined | null | false)[]): this {
    for (const node of nodes) {
      if (node !== undefined && node !== null && node !== false) this.children.push(node);
    }
    return this;
  }

  /** Appends a new child element and returns the child, for building nested trees. */
  c(name: string, attrs: XAttrs = {}, ns: string = this.ns): XElement {
    const child = new XElement(name, ns, attrs);
    this.children.push(child);
    return child;
  }

  removeChildren(predicate: (child: XElement) => boolean): this {
    this.children = this.children.filter((child) => typeof child === 'string' || !predicate(child));
    return this;
  }

  clone(): XElement {
    const copy = new XElement(this.name, this.ns, { ...this.attrs });
    copy.children = this.children.map((child) => (typeof child === 'string' ? child : child.clone()));
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

/** Builds an element: `x('message', NS.CLIENT, { to }, x('body', NS.CLIENT, {}, 'hi'))`. */
export function x(name: string, ns: string, attrs: XAttrs = {}, ...children: (XNode | undefined | null | false)[]): XElement {
  return new XElement(name, ns, attrs).append(...children);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/** Serializes an element; `parentNs` is the namespace in scope where it is written ('' in a WebSocket frame). */
export function serialize(element: XElement, parentNs = ''): string {
  const parts: string[] = [];
  write(element, parentNs, parts);
  return parts.join('');
}

function write(element: XElement, parentNs: string, parts: string[]): void {
  parts.push('<', element.name);
  if (element.ns !== parentNs) parts.push(' xmlns="', escapeXml(element.ns), '"');
  for (const [key, value] of Object.entries(element.attrs)) parts.push(' ', key, '="', escapeXml(value), '"');

  if (element.children.length === 0) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  for (const child of element.children) {
    if (typeof child === 'string') parts.push(escapeXml(child));
    else write(child, element.ns, parts);
  }
  parts.push('</', element.name, '>');
}
