import { XElement } from './element.js';

export class XmlParseError extends Error {
  override name = 'XmlParseError';
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /[^\s/>=]+/y;

type Scope = Map<string, string>;

/**
 * Parses one WebSocket frame (RFC 7395 section 3.3.3: one complete element, optionally after an
 * XML declaration) into an element tree with resolved namespaces. The subset is the one RFC 6120
 * section 11 allows: comments, processing instructions and DTDs are refused.
 */
export function parseFrame(text: string): XElement {
  const parser = new FrameParser(text);
  return parser.parseDocument();
}

class FrameParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): XElement {
    this.skipSpace();
    if (this.text.startsWith('<?xml', this.pos)) {
      const end = this.text.indexOf('?>', this.pos);
      if (end < 0) this.fail('unterminated XML declaration');
      this.pos = end + 2;
      this.skipSpace();
    }
    const root = this.parseElement(new Map([['xml', XML_NS]]), '');
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('content after the root element');
    return root;
  }

  private parseElement(parentScope: Scope, parentDefault: string): XElement {
    this.expect('<');
    const qname = this.readName();
    const raw = this.readAttributes();
    const scope = new Map(parentScope);
    let defaultNs = parentDefault;
    const attrs: Record<string, string> = {};

    for (const [key, value] of raw) {
      if (key === 'xmlns') defaultNs = value;
      else if (key.startsWith('xmlns:')) scope.set(key.slice(6), value);
      else attrs[key] = value;
    }
    for (const key of Object.keys(attrs)) {
      const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : undefined;
      if (prefix !== undefined && !scope.has(prefix)) this.fail(`undeclared prefix '${prefix}'`);
    }

    const element = new XElement(localName(qname), this.resolve(qname, scope, defaultNs), attrs);
    if (this.text.startsWith('/>', this.pos)) {
      this.pos += 2;
      return element;
    }
    this.expect('>');
    this.parseContent(element, qname, scope, defaultNs);
    return element;
  }

  private parseContent(element: XElement, qname: string, scope: Scope, defaultNs: string): void {
    while (this.pos < this.text.length) {
      if (this.text.startsWith('</', this.pos)) {
        this.pos += 2;
        if (this.readName() !== qname) this.fail(`mismatched end tag for '${qname}'`);
        this.skipSpace();
        this.expect('>');
        return;
      }
      if (this.text.startsWith('<![CDATA[', this.pos)) element.append(this.readCdata());
      else if (this.text.startsWith('<!', this.pos) || this.text.startsWith('<?', this.pos)) this.fail('comments, DTDs and processing instructions are not allowed');
      else if (this.text[this.pos] === '<') element.append(this.parseElement(scope, defaultNs));
      else element.append(this.readText());
    }
    this.fail(`unterminated element '${qname}'`);
  }

  private readAttributes(): [string, string][] {
    const found: [string, string][] = [];
    for (;;) {
      const hadSpace = this.skipSpace();
      const ch = this.text[this.pos];
      if (ch === '>' || ch === '/' || ch === undefined) return found;
      if (!hadSpace) this.fail('attributes must be separated by white space');

      const name = this.readName();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('attribute value must be quoted');
      const end = this.text.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail('unterminated attribute value');
      const value = this.text.slice(this.pos + 1, end);
      if (value.includes('<')) this.fail("'<' in an attribute value");
      if (found.some(([key]) => key === name)) this.fail(`duplicate attribute '${name}'`);
      found.push([name, decodeEntities(value, this)]);
      this.pos = end + 1;
    }
  }

  private readText(): string {
    const end = this.text.indexOf('<', this.pos);
    const stop = end < 0 ? this.text.length : end;
    const raw = this.text.slice(this.pos, stop);
    this.pos = stop;
    return decodeEntities(raw, this);
  }

  private readCdata(): string {
    const end = this.text.indexOf(']]>', this.pos);
    if (end < 0) this.fail('unterminated CDATA section');
    const data = this.text.slice(this.pos + 9, end);
    this.pos = end + 3;
    return data;
  }

  private readName(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (!match) this.fail('expected a name');
    this.pos += match[0].length;
    return match[0];
  }

  private resolve(qname: string, scope: Scope, defaultNs: string): string {
    const colon = qname.indexOf(':');
    if (colon < 0) return defaultNs;
    const ns = scope.get(qname.slice(0, colon));
    if (ns === undefined) this.fail(`undeclared prefix in '${qname}'`);
    return ns;
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos] ?? '')) this.pos++;
    return this.pos > start;
  }

  private expect(token: string): void {
    if (!this.text.startsWith(token, this.pos)) this.fail(`expected '${token}'`);
    this.pos += token.length;
  }

  fail(message: string): never {
    throw new XmlParseError(`${message} at offset ${this.pos}`);
  }
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

function decodeEntities(raw: string, parser: FrameParser): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) parser.fail('unterminated entity reference');
    const known = ENTITIES[name];
    if (known !== undefined) return known;
    const code = name.startsWith('#x') ? parseInt(name.slice(2), 16) : name.startsWith('#') ? parseInt(name.slice(1), 10) : NaN;
    if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff) parser.fail(`unknown entity '&${name};'`);
    return String.fromCodePoint(code);
  });
}
