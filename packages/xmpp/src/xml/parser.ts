/**
 * Streaming parser for the XML subset of RFC 6120 section 11, written for Parley (no XML
 * library at runtime). StreamParser reads the raw bytes of a TCP stream, and parseFrame
 * reads one WebSocket text message (RFC 7395).
 *
 * Bytes are validated and decoded once per chunk (node:buffer isUtf8 and toString), and the
 * decoded text is scanned with indexOf and char code loops. The size limit is counted in
 * exact UTF-8 bytes. The decoder reports the bytes behind each decoded chunk, so all-ASCII
 * input (the common case) is counted in UTF-16 units at no cost. Other input is counted
 * by measuring each consumed range once.
 */
import { Buffer } from 'node:buffer';

import type { Element } from './element.js';
import { XmlParseError } from './parser-error.js';
import { XmlReader } from './parser-reader.js';
import type { ReaderLimits } from './parser-reader.js';
import { hasLoneSurrogate } from './parser-text.js';
import { Utf8StreamDecoder } from './parser-utf8.js';

export { XmlParseError } from './parser-error.js';
export type { XmlErrorCondition } from './parser-error.js';

/** Callbacks of a StreamParser. A handler may call reset(), which drops the rest of the chunk being parsed. */
export interface StreamParserHandlers {
  /** The `<stream:stream>` open tag, with its default namespace declaration in attrs.xmlns. */
  streamStart(header: Element): void;
  /** Each complete top-level child of the stream (a stanza, `<starttls/>`, `<auth/>`, `<r/>`, ...). */
  element(el: Element): void;
  /** `</stream:stream>`. */
  streamEnd(): void;
  /** A parse failure, after which the parser ignores input until reset(). */
  error(err: XmlParseError): void;
}

/** Limits of a parser. */
export interface StreamParserOptions {
  /** Maximum bytes of one top-level element, from its '<' to the end of its end tag, and of the stream header. */
  maxStanzaBytes: number;
  /** Maximum nesting of elements in one top-level element, itself counted as 1 (default 100). */
  maxDepth?: number;
  /** Maximum attributes of one element, namespace declarations included (default 100). */
  maxAttributes?: number;
}

const DEFAULT_MAX_DEPTH = 100;
const DEFAULT_MAX_ATTRIBUTES = 100;

/**
 * Parses an XML stream from the raw bytes of a connection, split at any byte.
 *
 * NOTE: a second `<stream:stream>` header that arrives without reset() is read as an
 * ordinary top-level element, which ends only at the next `</stream:stream>`.
 */
export class StreamParser {
  private readonly decoder = new Utf8StreamDecoder();
  private readonly reader: XmlReader;

  constructor(handlers: StreamParserHandlers, options: StreamParserOptions) {
    this.reader = new XmlReader(false, handlers, toLimits(options));
  }

  /** Parses the next bytes and passes results and errors to the handlers. */
  write(chunk: Uint8Array): void {
    if (this.reader.failed) return;
    if (this.reader.busy) throw new Error('StreamParser.write() cannot be called from inside a handler');
    const text = this.decoder.decode(chunk);
    if (text !== '' || this.decoder.error !== null) this.reader.feed(text, this.decoder.byteLength, this.decoder.error);
  }

  /** Forgets everything for a stream restart (after STARTTLS or SASL success) and expects a new stream header. */
  reset(): void {
    this.decoder.reset();
    this.reader.reset();
  }
}

/**
 * Parses one WebSocket text message (RFC 7395): exactly one complete element with its
 * namespaces declared on it. `<open/>` and `<close/>` in urn:ietf:params:xml:ns:xmpp-framing
 * are returned as elements like any other. An element without a namespace declaration gets
 * ns ''. Throws XmlParseError.
 */
export function parseFrame(text: string, options: StreamParserOptions): Element {
  const byteLength = Buffer.byteLength(text, 'utf8');
  const limits = toLimits(options);
  if (byteLength > limits.maxStanzaBytes) {
    throw new XmlParseError('policy-violation', `Frame exceeds the maximum size of ${limits.maxStanzaBytes} bytes`);
  }
  if (hasLoneSurrogate(text)) throw new XmlParseError('not-well-formed', 'The frame contains an unpaired surrogate');

  let result: Element | undefined;
  let failure: XmlParseError | undefined;
  const reader = new XmlReader(true, {
    streamStart: () => {},
    element: (el) => {
      result = el;
    },
    streamEnd: () => {},
    error: (err) => {
      failure = err;
    },
  }, limits);
  reader.feed(text, byteLength);

  if (failure !== undefined) throw failure;
  if (result === undefined || !reader.complete) {
    throw new XmlParseError('not-well-formed', 'The frame does not contain one complete element');
  }
  return result;
}

function toLimits(options: StreamParserOptions): ReaderLimits {
  const limits = {
    maxStanzaBytes: options.maxStanzaBytes,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxAttributes: options.maxAttributes ?? DEFAULT_MAX_ATTRIBUTES,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return limits;
}
