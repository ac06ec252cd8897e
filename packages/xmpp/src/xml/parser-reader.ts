import { NS } from '../ns.js';
import type { Element } from './element.js';
import { XmlParseError, notWellFormed } from './parser-error.js';
import { resolveElement } from './parser-namespaces.js';
import type { NamespaceScope } from './parser-namespaces.js';
import { StartTagReader, readStartTag } from './parser-tag.js';
import type { StartTag } from './parser-tag.js';
import { decodeText, findForbiddenChar, forbiddenCharError, isWhitespace, utf8Length } from './parser-text.js';

/** Callbacks of the reader, with the contract of StreamParserHandlers. */
export interface ReaderHandlers {
  streamStart(header: Element): void;
  element(el: Element): void;
  streamEnd(): void;
  error(err: XmlParseError): void;
}

/** Limits that bound the memory and work one peer can cause. */
export interface ReaderLimits {
  maxStanzaBytes: number;
  maxDepth: number;
  maxAttributes: number;
}

const DOCUMENT_START = 0; // nothing read yet: an XML declaration may come
const PROLOG = 1; // before the stream header
const CONTENT = 2; // inside the root: between top-level elements or inside one
const CDATA = 3; // inside a CDATA section
const TAG_WAIT = 4; // the input starts with a start tag that tagReader has partly read
const EPILOG = 5; // after the root element: only whitespace may follow
const FAILED = 6;

/** Returned by a step when the token at its position is incomplete. */
const NEED_MORE = -1;
/** Returned by run() when a handler called reset() or the input failed. */
const STOPPED = -2;

const EMPTY_SCOPE: NamespaceScope = { defaultNs: '', prefixes: null };
const XML_DECLARATION =
  /^\s+version\s*=\s*(["'])1\.[0-9]+\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*$/;

interface OpenElement {
  element: Element;
  qname: string;
  scope: NamespaceScope;
}

/**
 * Incremental parser for the restricted XML of RFC 6120 section 11 over decoded text.
 *
 * In stream mode the root is the stream header and each complete child of it is passed to
 * `handlers.element`. In frame mode (RFC 7395) the root element itself is the result.
 * Each step of run() reads one token at its position. A token cut off by the end of the
 * input stays in `tail` until the next chunk is appended. Start tags, end tags and the XML
 * declaration then continue from where they stopped, so the work stays linear however the
 * input is split.
 */
export class XmlReader {
  private state = DOCUMENT_START;
  private stateBeforeWait = CONTENT;
  private readonly tagReader = new StartTagReader();
  /** Index at which the search for the end of an incomplete end tag or XML declaration continues. */
  private searchFrom = 0;
  private tail = '';
  private tailBytes = 0;
  private ascii = true;
  private stack: OpenElement[] = [];
  private rootScope = EMPTY_SCOPE;
  private rootName = '';
  /** Index in the current input of the '<' of the top-level element being read, or -1 between elements. */
  private stanzaStart = -1;
  /** Bytes of the top-level element being read that came in earlier inputs. */
  private stanzaBytes = 0;
  /** Input position after the last token whose handler was called. */
  private committed = 0;
  private generation = 0;
  private running = false;

  constructor(
    private readonly frameMode: boolean,
    private readonly handlers: ReaderHandlers,
    private readonly limits: ReaderLimits,
  ) {}

  get failed(): boolean {
    return this.state === FAILED;
  }

  /** True while a handler runs. */
  get busy(): boolean {
    return this.running;
  }

  /** True in frame mode once the root element has ended and nothing but whitespace followed it. */
  get complete(): boolean {
    return this.state === EPILOG && this.tail === '';
  }

  /**
   * Parses the next piece of decoded text, `byteLength` being its size in UTF-8.
   * `inputError` is an encoding error found right after `text`. It is reported after the
   * text before it is parsed, unless a handler resets the parser first, so that results do
   * not depend on how the input is split into chunks.
   */
  feed(text: string, byteLength: number, inputError: XmlParseError | null = null): void {
    if (this.state === FAILED) return;
    if (this.running) throw new Error('The XML parser cannot be fed from inside one of its handlers');

    let chunk = text;
    let chunkBytes = byteLength;
    if (this.state === DOCUMENT_START && this.tail === '' && chunk.charCodeAt(0) === 0xfeff) {
      chunk = chunk.slice(1); // a UTF-8 byte order mark
      chunkBytes -= 3;
    }
    let error = inputError;
    const forbidden = findForbiddenChar(chunk);
    if (forbidden !== -1) {
      error = forbiddenCharError(chunk, forbidden);
      chunk = chunk.slice(0, forbidden);
      chunkBytes = utf8Length(chunk, 0, chunk.length);
    }

    const input = this.tail === '' ? chunk : this.tail + chunk;
    const inputBytes = this.tailBytes + chunkBytes;
    if (!this.parse(input, inputBytes)) return;
    if (error !== null && this.state !== FAILED) this.fail(error);
  }

  /** Runs the parser over `input` and keeps its unread end. Returns false when a handler reset the parser or parsing failed. */
  private parse(input: string, inputBytes: number): boolean {
    this.ascii = inputBytes === input.length;
    const generation = this.generation;
    let stop: number;
    this.running = true;
    try {
      stop = this.run(input, generation);
    } catch (err) {
      if (err instanceof XmlParseError) {
        this.fail(err);
        return false;
      }
      // A handler threw: keep what follows the element it was given for the next write.
      if (this.generation === generation && this.state !== FAILED) this.keepTail(input, this.committed, inputBytes);
      throw err;
    } finally {
      this.running = false;
    }
    if (stop === STOPPED) return false;
    this.keepTail(input, stop, inputBytes);
    return true;
  }

  /** Reports `err` and ignores input until reset(). */
  fail(err: XmlParseError): void {
    this.state = FAILED;
    this.tail = '';
    this.tailBytes = 0;
    this.stack = [];
    this.handlers.error(err);
  }

  /** Forgets the stream, expecting a new XML declaration or stream header. */
  reset(): void {
    this.generation++;
    this.state = DOCUMENT_START;
    this.tail = '';
    this.tailBytes = 0;
    this.stack = [];
    this.rootScope = EMPTY_SCOPE;
    this.rootName = '';
    this.stanzaStart = -1;
    this.stanzaBytes = 0;
    this.searchFrom = 0;
  }

  /** Reads tokens until the input ends. Returns the index where the unread rest starts, or STOPPED. */
  private run(s: string, generation: number): number {
    let p = 0;
    while (p < s.length) {
      this.committed = p;
      const next = this.step(s, p);
      if (this.generation !== generation || this.state === FAILED) return STOPPED;
      if (next === NEED_MORE) return p;
      p = next;
    }
    return p;
  }

  private step(s: string, p: number): number {
    switch (this.state) {
      case CONTENT:
        return s.charCodeAt(p) === 0x3c ? this.markup(s, p) : this.text(s, p);
      case CDATA:
        return this.cdata(s, p);
      case TAG_WAIT:
        return this.readTag(s, p, this.stateBeforeWait);
      case DOCUMENT_START:
        return this.documentStart(s, p);
      case PROLOG:
        return this.prolog(s, p);
      default:
        if (!isWhitespace(s, p, s.length)) {
          throw notWellFormed(`Data '${excerpt(s, p, s.length)}' follows the end of the root element`);
        }
        return s.length;
    }
  }

  /** Keeps s[stop..] for the next input and enforces the size limit on the unfinished element. */
  private keepTail(s: string, stop: number, inputBytes: number): void {
    if (this.stanzaStart !== -1) {
      this.stanzaBytes += this.ascii ? stop - this.stanzaStart : utf8Length(s, this.stanzaStart, stop);
      this.stanzaStart = 0;
    }
    this.tail = stop === s.length ? '' : s.slice(stop);
    // Count the shorter side, so that a long tail waiting for many small writes is not counted again each time.
    if (this.ascii) this.tailBytes = this.tail.length;
    else if (this.tail.length <= stop) this.tailBytes = utf8Length(s, stop, s.length);
    else this.tailBytes = inputBytes - utf8Length(s, 0, stop);
    if (this.state === TAG_WAIT) this.tagReader.rebase(stop);
    this.searchFrom = Math.max(0, this.searchFrom - stop);

    if (this.stanzaBytes + this.tailBytes > this.limits.maxStanzaBytes) {
      this.fail(tooLarge(this.limits.maxStanzaBytes));
    }
  }

  private documentStart(s: string, p: number): number {
    this.state = this.frameMode ? CONTENT : PROLOG;
    if (s.length - p < 6) {
      if ('<?xml'.startsWith(s.slice(p))) {
        this.state = DOCUMENT_START;
        return NEED_MORE;
      }
      return p;
    }
    if (!s.startsWith('<?xml', p) || !isWhitespace(s, p + 5, p + 6)) return p;

    const end = s.indexOf('?>', Math.max(p + 5, this.searchFrom));
    if (end === -1) {
      this.state = DOCUMENT_START;
      this.searchFrom = s.length - 1;
      return NEED_MORE;
    }
    this.searchFrom = 0;
    checkDeclaration(s.slice(p + 5, end));
    return end + 2;
  }

  private prolog(s: string, p: number): number {
    if (s.charCodeAt(p) !== 0x3c) {
      const lt = s.indexOf('<', p);
      const end = lt === -1 ? s.length : lt;
      if (!isWhitespace(s, p, end)) throw notWellFormed(`Text '${excerpt(s, p, end)}' before the stream header`);
      return end;
    }
    if (p + 1 >= s.length) return NEED_MORE;
    const next = s.charCodeAt(p + 1);
    if (next === 0x3f) {
      throw new XmlParseError('restricted-xml', 'Processing instructions are not allowed in XMPP (RFC 6120 section 11.1)');
    }
    if (next === 0x21) return this.markupDeclaration(s, p);
    if (next === 0x2f) throw notWellFormed('End tag before the stream header');
    return this.readTag(s, p, PROLOG);
  }

  /** Reads the start tag at s[p] (the stream header in PROLOG, an element in CONTENT), or waits for its end. */
  private readTag(s: string, p: number, context: number): number {
    let tag: StartTag | null;
    if (this.state === TAG_WAIT) {
      tag = this.tagReader.read(s, this.limits.maxAttributes);
    } else {
      tag = readStartTag(s, p, this.limits.maxAttributes);
      if (tag === null) {
        this.tagReader.begin(p);
        tag = this.tagReader.read(s, this.limits.maxAttributes);
      }
    }
    if (tag === null) {
      this.stateBeforeWait = context;
      this.state = TAG_WAIT;
      return NEED_MORE;
    }
    this.state = context;
    return context === PROLOG ? this.openStream(s, p, tag) : this.openElement(s, p, tag);
  }

  private openStream(s: string, p: number, tag: StartTag): number {
    const bytes = this.ascii ? tag.end - p : utf8Length(s, p, tag.end);
    if (bytes > this.limits.maxStanzaBytes) throw tooLarge(this.limits.maxStanzaBytes);

    const { element, scope } = resolveElement(tag, EMPTY_SCOPE, true);
    if (element.name !== 'stream' || element.ns !== NS.STREAM) {
      throw new XmlParseError('invalid-namespace', `Stream header <${tag.name}> is not <stream> in ${NS.STREAM}`);
    }
    this.rootScope = scope;
    this.rootName = tag.name;
    this.state = tag.selfClosing ? EPILOG : CONTENT;
    this.committed = tag.end;
    this.handlers.streamStart(element);
    if (tag.selfClosing && this.state === EPILOG) this.handlers.streamEnd();
    return tag.end;
  }

  private markup(s: string, p: number): number {
    if (p + 1 >= s.length) return NEED_MORE;
    switch (s.charCodeAt(p + 1)) {
      case 0x2f:
        return this.endTag(s, p);
      case 0x21:
        return this.markupDeclaration(s, p);
      case 0x3f:
        throw new XmlParseError('restricted-xml', 'Processing instructions are not allowed in XMPP (RFC 6120 section 11.1)');
      default:
        return this.startTag(s, p);
    }
  }

  /** Reads `<!`, which starts a CDATA section, or a comment or DTD that RFC 6120 section 11.1 prohibits. */
  private markupDeclaration(s: string, p: number): number {
    if (p + 2 >= s.length) return NEED_MORE;
    const third = s.charCodeAt(p + 2);
    if (third === 0x5b) {
      if (s.length - p < 9) return '<![CDATA['.startsWith(s.slice(p)) ? NEED_MORE : this.badMarkup(s, p);
      if (!s.startsWith('<![CDATA[', p)) return this.badMarkup(s, p);
      if (this.stack.length === 0) throw notWellFormed('CDATA section outside an element');
      this.state = CDATA;
      return p + 9;
    }
    if (third === 0x2d) {
      if (p + 3 >= s.length) return NEED_MORE;
      if (s.charCodeAt(p + 3) !== 0x2d) return this.badMarkup(s, p);
      throw new XmlParseError('restricted-xml', 'Comments are not allowed in XMPP (RFC 6120 section 11.1)');
    }
    // <!DOCTYPE, or a markup declaration (<!ENTITY ...) that may only appear inside one.
    throw new XmlParseError('restricted-xml', 'Document type declarations are not allowed in XMPP (RFC 6120 section 11.1)');
  }

  private badMarkup(s: string, p: number): never {
    throw notWellFormed(`Invalid markup '${s.slice(p, p + 9)}'`);
  }

  private startTag(s: string, p: number): number {
    if (this.stack.length === 0 && this.stanzaStart === -1) this.stanzaStart = p;
    return this.readTag(s, p, CONTENT);
  }

  private openElement(s: string, p: number, tag: StartTag): number {
    const depth = this.stack.length;
    if (depth >= this.limits.maxDepth) {
      throw new XmlParseError('policy-violation', `Elements are nested deeper than ${this.limits.maxDepth} levels`);
    }
    // Each UTF-16 unit is at least one byte, so this lower bound detects most oversize elements early.
    if (this.stanzaBytes + tag.end - this.stanzaStart > this.limits.maxStanzaBytes) {
      throw tooLarge(this.limits.maxStanzaBytes);
    }

    const parent = depth === 0 ? undefined : this.stack[depth - 1];
    const { element, scope } = resolveElement(tag, parent?.scope ?? this.rootScope, false);
    if (this.frameMode && depth === 0 && element.name === 'stream' && element.ns === NS.STREAM) {
      throw notWellFormed('A WebSocket frame cannot contain a <stream:stream> header (RFC 7395 uses <open/>)');
    }
    parent?.element.children.push(element);
    if (!tag.selfClosing) this.stack.push({ element, qname: tag.name, scope });
    else if (depth === 0) this.emitTopLevel(element, s, tag.end);
    return tag.end;
  }

  private endTag(s: string, p: number): number {
    const gt = s.indexOf('>', Math.max(p + 2, this.searchFrom));
    if (gt === -1) {
      this.searchFrom = s.length;
      return NEED_MORE;
    }
    this.searchFrom = 0;
    let nameEnd = gt;
    while (nameEnd > p + 2 && isWhitespace(s, nameEnd - 1, nameEnd)) nameEnd--;
    const name = s.slice(p + 2, nameEnd);

    const open = this.stack.pop();
    if (open === undefined) {
      if (this.frameMode || name !== this.rootName) throw notWellFormed(`Unexpected end tag </${name}>`);
      this.state = EPILOG;
      this.committed = gt + 1;
      this.handlers.streamEnd();
      return gt + 1;
    }
    if (open.qname !== name) throw notWellFormed(`End tag </${name}> does not match start tag <${open.qname}>`);
    if (this.stack.length === 0) this.emitTopLevel(open.element, s, gt + 1);
    return gt + 1;
  }

  private emitTopLevel(element: Element, s: string, end: number): void {
    const bytes = this.stanzaBytes + (this.ascii ? end - this.stanzaStart : utf8Length(s, this.stanzaStart, end));
    if (bytes > this.limits.maxStanzaBytes) throw tooLarge(this.limits.maxStanzaBytes);
    this.stanzaStart = -1;
    this.stanzaBytes = 0;
    if (this.frameMode) this.state = EPILOG;
    this.committed = end;
    this.handlers.element(element);
  }

  private text(s: string, p: number): number {
    const lt = s.indexOf('<', p);
    const open = this.stack[this.stack.length - 1];
    if (open === undefined) {
      const end = lt === -1 ? s.length : lt;
      if (!isWhitespace(s, p, end)) throw notWellFormed(`Text '${excerpt(s, p, end)}' outside an element`);
      return end;
    }
    const end = lt === -1 ? safeTextEnd(s, p) : lt;
    if (end <= p) return NEED_MORE;
    const raw = s.slice(p, end);
    if (raw.indexOf(']]>') !== -1) throw notWellFormed("Character data contains ']]>'");
    appendText(open.element, decodeText(raw));
    return end;
  }

  private cdata(s: string, p: number): number {
    const close = s.indexOf(']]>', p);
    const end = close === -1 ? holdBackEnd(s, p) : close;
    const open = this.stack[this.stack.length - 1];
    if (end > p && open !== undefined) appendText(open.element, normalizeLineBreaks(s.slice(p, end)));
    if (close !== -1) {
      this.state = CONTENT;
      return close + 3;
    }
    return end > p ? end : NEED_MORE;
  }
}

/**
 * Returns how much of a text run that reaches the end of the input can be read now: the
 * end that holdBackEnd() allows, and not past an unterminated reference.
 */
function safeTextEnd(s: string, p: number): number {
  let end = holdBackEnd(s, p);
  const amp = s.lastIndexOf('&');
  if (amp >= p && amp < end) {
    const semicolon = s.indexOf(';', amp);
    if (semicolon === -1 || semicolon >= end) end = amp;
  }
  return end;
}

/**
 * Returns the end of the text in s[p..] that can be read before the input ends. Up to two
 * final characters wait for the next input when they are a CR (an LF may follow), a ']'
 * (']]>' may follow) or the first half of a surrogate pair (kept whole so that byte counts
 * of the parts add up).
 */
function holdBackEnd(s: string, p: number): number {
  let end = s.length;
  while (end > p && s.length - end < 2) {
    const code = s.charCodeAt(end - 1);
    if (code !== 0x0d && code !== 0x5d && (code < 0xd800 || code > 0xdbff)) break;
    end--;
  }
  return end;
}

function appendText(element: Element, text: string): void {
  const children = element.children;
  const last = children.length - 1;
  const previous = children[last];
  if (typeof previous === 'string') children[last] = previous + text;
  else children.push(text);
}

function normalizeLineBreaks(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(/\r\n?/g, '\n');
}

/** Checks the pseudo-attributes of an XML declaration (XML 1.0 section 2.8), accepting no encoding but UTF-8. */
function checkDeclaration(content: string): void {
  const match = XML_DECLARATION.exec(content);
  if (match === null) throw notWellFormed(`Invalid XML declaration '<?xml${content}?>'`);
  const encoding = match[3];
  if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') {
    throw new XmlParseError('unsupported-encoding', `Encoding '${encoding}' is not supported; XMPP uses UTF-8 only`);
  }
}

/** Returns s[start..end), shortened to 40 characters, for an error message. */
function excerpt(s: string, start: number, end: number): string {
  return end - start > 40 ? `${s.slice(start, start + 40)}...` : s.slice(start, end);
}

function tooLarge(maxBytes: number): XmlParseError {
  return new XmlParseError('policy-violation', `Element exceeds the maximum size of ${maxBytes} bytes`);
}
