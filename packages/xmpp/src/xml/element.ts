/** A child of an element: another element or character data. */
export type Node = Element | string;

/**
 * An XML element with a resolved namespace.
 *
 * `name` is the local name and `ns` the namespace URI that the parser resolved from
 * the default namespace or a prefix. `attrs` contains the other attributes under their
 * qualified names (`xml:lang`, or `p:name` together with its `xmlns:p` declaration).
 * The serializer writes `xmlns` only where an element's namespace differs from its
 * parent's, so an element always carries its namespace when serialized on its own.
 */
export class Element {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: Node[];

  constructor(name: string, ns: string, attrs: Record<string, string | number | undefined> = {}, children: Node[] = []) {
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
  getChild(name: string, ns?: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.name === name && (ns === undefined || child.ns === ns)) return child;
    }
    return undefined;
  }

  getChildren(name?: string, ns?: string): Element[] {
    const found: Element[] = [];
    for (const child of this.children) {
      if (typeof child === 'string') continue;
      if (name !== undefined && child.name !== name) continue;
      if (ns !== undefined && child.ns !== ns) continue;
      found.push(child);
    }
    return found;
  }

  /** Returns the first child element in namespace `ns`, whatever its name. */
  getChildByNs(ns: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.ns === ns) return child;
    }
    return undefined;
  }

  elements(): Element[] {
    return this.children.filter((child): child is Element => typeof child !== 'string');
  }

  /** Returns the concatenated character data of this element's direct text children. */
  text(): string {
    let result = '';
    for (const child of this.children) {
      if (typeof child === 'string') result += child;
    }
    return result;
  }

  getChildText(name: string, ns?: string): string | undefined {
    return this.getChild(name, ns)?.text();
  }

  append(...nodes: (Node | undefined | null | false)[]): this {
    for (const node of nodes) {
      if (node !== undefined && node !== null && node !== false) this.children.push(node);
    }
    return this;
  }

  /** Appends a new child element and returns the child, for building nested trees. */
  c(name: string, attrs: Record<string, string | number | undefined> = {}, ns: string = this.ns): Element {
    const child = new Element(name, ns, attrs);
    this.children.push(child);
    return child;
  }

  removeChildren(predicate: (child: Element) => boolean): this {
    this.children = this.children.filter((child) => typeof child === 'string' || !predicate(child));
    return this;
  }

  clone(): Element {
    const copy = new Element(this.name, this.ns, { ...this.attrs });
    copy.children = this.children.map((child) => (typeof child === 'string' ? child : child.clone()));
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

/** Builds an element: `x('message', NS.CLIENT, {to}, x('body', NS.CLIENT, {}, 'hi'))`. */
export function x(
  name: string,
  ns: string,
  attrs: Record<string, string | number | undefined> = {},
  ...children: (Node | undefined | null | false)[]
): Element {
  return new Element(name, ns, attrs).append(...children);
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (ch) => TEXT_ESCAPES[ch] ?? ch);
}

export function escapeAttr(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ATTR_ESCAPES[ch] ?? ch);
}

/**
 * Serializes an element. `parentNs` is the namespace in scope where the element is
 * written: the stream's content namespace for a stanza on a TCP stream, or '' for a
 * WebSocket frame, where every element declares its namespace.
 */
export function serialize(element: Element, parentNs = ''): string {
  const parts: string[] = [];
  writeElement(element, parentNs, parts);
  return parts.join('');
}

function writeElement(element: Element, parentNs: string, parts: string[]): void {
  parts.push('<', element.name);
  if (element.ns !== parentNs) parts.push(' xmlns="', escapeAttr(element.ns), '"');
  for (const [key, value] of Object.entries(element.attrs)) {
    parts.push(' ', key, '="', escapeAttr(value), '"');
  }
  if (element.children.length === 0) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  for (const child of element.children) {
    if (typeof child === 'string') parts.push(escapeText(child));
    else writeElement(child, element.ns, parts);
  }
  parts.push('</', element.name, '>');
}
