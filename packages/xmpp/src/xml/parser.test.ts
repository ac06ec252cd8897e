import { describe, expect, it } from 'vitest';

import { NS } from '../ns.js';
import type { Element } from './element.js';
import { StreamParser, XmlParseError, parseFrame } from './parser.js';
import type { StreamParserOptions } from './parser.js';

const HEADER =
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "to='example.test' version='1.0' xml:lang='en'>";
const UTF8_STANZA = "<message to='bob@example.test' id='日本' type='chat'><body>Grüße 日本語 🎉</body></message>";
const LIMITS: StreamParserOptions = { maxStanzaBytes: 10_000 };

interface Recording {
  parser: StreamParser;
  headers: Element[];
  elements: Element[];
  ends: number;
  errors: XmlParseError[];
}

function record(options: StreamParserOptions = LIMITS): Recording {
  const recording: Recording = { headers: [], elements: [], ends: 0, errors: [], parser: undefined as never };
  recording.parser = new StreamParser(
    {
      streamStart: (header) => recording.headers.push(header),
      element: (el) => recording.elements.push(el),
      streamEnd: () => recording.ends++,
      error: (err) => recording.errors.push(err),
    },
    options,
  );
  return recording;
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Writes `text` as UTF-8, in one write or in writes of `chunkSize` bytes. */
function parse(text: string, options: StreamParserOptions = LIMITS, chunkSize = Infinity): Recording {
  const recording = record(options);
  const data = bytes(text);
  for (let i = 0; i < data.length; i += chunkSize) recording.parser.write(data.subarray(i, i + chunkSize));
  return recording;
}

/** Returns the condition of the first error that parsing `text` after a stream header reports. */
function conditionAfterHeader(text: string, options: StreamParserOptions = LIMITS): string | undefined {
  return parse(HEADER + text, options).errors[0]?.condition;
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const result = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

describe('StreamParser stream header', () => {
  it('reports name, namespace and attributes', () => {
    const { headers, errors } = parse(HEADER);
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(1);
    expect(headers[0]?.name).toBe('stream');
    expect(headers[0]?.ns).toBe(NS.STREAM);
    expect(headers[0]?.attrs).toEqual({ xmlns: 'jabber:client', to: 'example.test', version: '1.0', 'xml:lang': 'en' });
  });

  it('accepts an XML declaration at the start', () => {
    const { headers, errors } = parse(`<?xml version='1.0'?>\n${HEADER}`);
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(1);
  });

  it('accepts a declared UTF-8 encoding', () => {
    const { headers, errors } = parse(`<?xml version="1.0" encoding="UTF-8"?>${HEADER}`);
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(1);
  });

  it('rejects another declared encoding', () => {
    const { headers, errors } = parse(`<?xml version='1.0' encoding='ISO-8859-1'?>${HEADER}`);
    expect(errors[0]?.condition).toBe('unsupported-encoding');
    expect(headers).toEqual([]);
  });

  it('rejects a malformed XML declaration', () => {
    expect(parse(`<?xml encoding='UTF-8'?>${HEADER}`).errors[0]?.condition).toBe('not-well-formed');
  });

  it('rejects an XML declaration after whitespace', () => {
    expect(parse(` <?xml version='1.0'?>${HEADER}`).errors[0]?.condition).toBe('restricted-xml');
  });

  it('rejects an XML declaration inside the stream', () => {
    expect(conditionAfterHeader("<?xml version='1.0'?>")).toBe('restricted-xml');
  });

  it('skips a UTF-8 byte order mark', () => {
    const { headers, errors } = parse(`\uFEFF${HEADER}`);
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(1);
  });

  it('rejects a header in another namespace', () => {
    const header = "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong'>";
    expect(parse(header).errors[0]?.condition).toBe('invalid-namespace');
  });

  it('rejects a header with another name', () => {
    const header = "<stream:flow xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    expect(parse(header).errors[0]?.condition).toBe('invalid-namespace');
  });

  it('rejects a header without a stream namespace', () => {
    expect(parse("<stream xmlns='jabber:client'>").errors[0]?.condition).toBe('invalid-namespace');
  });

  it('rejects a header with an undeclared prefix', () => {
    expect(parse("<stream:stream xmlns='jabber:client'>").errors[0]?.condition).toBe('bad-namespace-prefix');
  });

  it('rejects text before the header', () => {
    expect(parse(`hello${HEADER}`).errors[0]?.condition).toBe('not-well-formed');
  });

  it('reports a header split across writes', () => {
    const { headers, errors } = parse(HEADER, LIMITS, 7);
    expect(errors).toEqual([]);
    expect(headers[0]?.attrs.to).toBe('example.test');
  });

  it('rejects a header larger than the limit', () => {
    const header = HEADER.replace("to='", `to='${'a'.repeat(200)}`);
    expect(parse(header, { maxStanzaBytes: 100 }).errors[0]?.condition).toBe('policy-violation');
  });

  it('rejects an unterminated header at the limit', () => {
    const { errors } = parse(`<stream:stream to='${'a'.repeat(300)}`, { maxStanzaBytes: 100 }, 10);
    expect(errors[0]?.condition).toBe('policy-violation');
  });
});

describe('StreamParser stanzas', () => {
  it('reports a stanza in the stream namespace', () => {
    const { elements, errors } = parse(`${HEADER}<presence/>`);
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
    expect(elements[0]?.name).toBe('presence');
    expect(elements[0]?.ns).toBe('jabber:client');
  });

  it('builds children, text and attributes', () => {
    const { elements } = parse(`${HEADER}<message to='a@b' type='chat'><body>hi</body><x xmlns='urn:x'/></message>`);
    const message = elements[0];
    expect(message?.attrs).toEqual({ to: 'a@b', type: 'chat' });
    expect(message?.getChildText('body', 'jabber:client')).toBe('hi');
    expect(message?.getChild('x')?.ns).toBe('urn:x');
    expect(message?.getChild('x')?.attrs).toEqual({});
  });

  it('reports the end of the stream', () => {
    const { ends, errors } = parse(`${HEADER}<presence/></stream:stream>`);
    expect(errors).toEqual([]);
    expect(ends).toBe(1);
  });

  it('accepts whitespace after the end of the stream', () => {
    const { ends, errors } = parse(`${HEADER}</stream:stream>\n `);
    expect(ends).toBe(1);
    expect(errors).toEqual([]);
  });

  it('rejects data after the end of the stream', () => {
    expect(conditionAfterHeader('</stream:stream><presence/>')).toBe('not-well-formed');
  });

  it('reports a self-closing header as start and end', () => {
    const { headers, ends } = parse(HEADER.replace('>', '/>'));
    expect(headers).toHaveLength(1);
    expect(ends).toBe(1);
  });

  it('decodes CDATA sections as text', () => {
    const { elements } = parse(`${HEADER}<message><body><![CDATA[a <b> & ]] c]]>!</body></message>`);
    expect(elements[0]?.getChildText('body')).toBe('a <b> & ]] c!');
  });

  it('decodes CDATA split across writes', () => {
    const { elements, errors } = parse(`${HEADER}<message><body><![CDATA[a <b> & ]] c]]>!</body></message>`, LIMITS, 3);
    expect(errors).toEqual([]);
    expect(elements[0]?.getChildText('body')).toBe('a <b> & ]] c!');
  });

  it('rejects CDATA at the top level', () => {
    expect(conditionAfterHeader('<![CDATA[ ]]>')).toBe('not-well-formed');
  });

  it('throws when a handler writes', () => {
    const parser: StreamParser = new StreamParser(
      {
        streamStart: () => parser.write(bytes('<presence/>')),
        element: () => {},
        streamEnd: () => {},
        error: () => {},
      },
      LIMITS,
    );
    expect(() => parser.write(bytes(HEADER))).toThrow('inside a handler');
  });

  it('keeps parsing after a handler throws', () => {
    let calls = 0;
    const names: string[] = [];
    const parser = new StreamParser(
      {
        streamStart: () => {},
        element: (el) => {
          calls++;
          if (calls === 1) throw new Error('handler failure');
          names.push(el.name);
        },
        streamEnd: () => {},
        error: () => {},
      },
      LIMITS,
    );
    expect(() => parser.write(bytes(`${HEADER}<a/><b/>`))).toThrow('handler failure');
    parser.write(bytes('<c/>'));
    expect(names).toEqual(['b', 'c']);
  });
});

describe('StreamParser UTF-8 input', () => {
  const expectedText = Array.from('Grüße 日本語 🎉');
  const expectedId = Array.from('日本');

  it('decodes the stanza at every split offset', () => {
    const stanza = bytes(UTF8_STANZA);
    for (let offset = 1; offset < stanza.length; offset++) {
      const { parser, elements, errors } = record();
      parser.write(bytes(HEADER));
      parser.write(stanza.subarray(0, offset));
      parser.write(stanza.subarray(offset));
      expect(errors, `split at byte ${offset}`).toEqual([]);
      expect(elements, `split at byte ${offset}`).toHaveLength(1);
      expect(Array.from(elements[0]?.getChildText('body') ?? ''), `split at byte ${offset}`).toEqual(expectedText);
      expect(Array.from(elements[0]?.attrs.id ?? ''), `split at byte ${offset}`).toEqual(expectedId);
    }
  });

  it('decodes one byte per write', () => {
    const { elements, errors, headers } = parse(`<?xml version='1.0'?>${HEADER}${UTF8_STANZA}${UTF8_STANZA}`, LIMITS, 1);
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(1);
    expect(elements).toHaveLength(2);
    expect(Array.from(elements[1]?.getChildText('body') ?? '')).toEqual(expectedText);
    expect(Array.from(elements[1]?.attrs.id ?? '')).toEqual(expectedId);
    expect(elements[1]?.attrs).toEqual({ to: 'bob@example.test', id: '日本', type: 'chat' });
  });

  const invalidSequences: [string, number[]][] = [
    ['truncated sequence C3 3C', [0xc3, 0x3c]],
    ['overlong C0 AF', [0xc0, 0xaf]],
    ['overlong E0 80 AF', [0xe0, 0x80, 0xaf]],
    ['encoded surrogate ED A0 80', [0xed, 0xa0, 0x80]],
    ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['byte F5', [0xf5, 0x80, 0x80, 0x80]],
    ['byte FE', [0xfe]],
    ['byte FF', [0xff]],
    ['lone continuation byte', [0x80]],
  ];
  for (const [label, sequence] of invalidSequences) {
    it(`rejects ${label}`, () => {
      const { parser, elements, errors } = record();
      parser.write(bytes(`${HEADER}<message><body>a`));
      parser.write(concat(sequence, bytes('b</body></message>')));
      expect(errors.map((err) => err.condition)).toEqual(['unsupported-encoding']);
      expect(elements).toEqual([]);
    });
  }

  it('delivers the stanza before invalid UTF-8 in the same write', () => {
    const { parser, elements, errors } = record();
    parser.write(concat(bytes(`${HEADER}<presence/>`), [0xff]));
    expect(elements).toHaveLength(1);
    expect(errors[0]?.condition).toBe('unsupported-encoding');
  });

  it('delivers the stanza before a forbidden character in the same write', () => {
    const { elements, errors } = parse(`${HEADER}<presence/>\u0001`);
    expect(elements).toHaveLength(1);
    expect(errors[0]?.condition).toBe('not-well-formed');
  });

  it('rejects an invalid sequence split across writes', () => {
    const { parser, errors } = record();
    parser.write(concat(bytes(`${HEADER}<message><body>`), [0xed]));
    parser.write(new Uint8Array([0xa0]));
    parser.write(concat([0x80], bytes('</body></message>')));
    expect(errors.map((err) => err.condition)).toEqual(['unsupported-encoding']);
  });

  it('rejects invalid UTF-8 in an attribute value', () => {
    const { parser, errors } = record();
    parser.write(concat(bytes(`${HEADER}<message id='`), [0xc0, 0xaf], bytes("'/>")));
    expect(errors[0]?.condition).toBe('unsupported-encoding');
  });

  it('rejects UTF-16 input', () => {
    const utf16 = new Uint8Array([0xff, 0xfe, 0x3c, 0x00, 0x73, 0x00]);
    const { parser, errors } = record();
    parser.write(utf16);
    expect(errors[0]?.condition).toBe('unsupported-encoding');
  });

  const forbiddenChars: [string, string][] = [
    ['U+0000', '\u0000'],
    ['U+0001', '\u0001'],
    ['U+001F', '\u001f'],
    ['U+FFFE', '\uFFFE'],
    ['U+FFFF', '\uFFFF'],
  ];
  for (const [label, char] of forbiddenChars) {
    it(`rejects ${label} in text`, () => {
      expect(conditionAfterHeader(`<message><body>a${char}b</body></message>`)).toBe('not-well-formed');
    });

    it(`rejects ${label} in an attribute`, () => {
      expect(conditionAfterHeader(`<message id='a${char}b'/>`)).toBe('not-well-formed');
    });
  }

  it('rejects U+0000 between stanzas', () => {
    expect(conditionAfterHeader('\u0000')).toBe('not-well-formed');
  });
});

describe('StreamParser whitespace', () => {
  it('ignores whitespace keepalives between stanzas', () => {
    const { parser, elements, errors } = record();
    parser.write(bytes(HEADER));
    parser.write(bytes(' '));
    parser.write(bytes('<presence/>'));
    parser.write(bytes('\n'));
    parser.write(bytes("<message id='1'/>"));
    parser.write(bytes('\r\n\t  '));
    parser.write(bytes(' '));
    parser.write(bytes("<iq id='2' type='get'/>\n"));
    expect(errors).toEqual([]);
    expect(elements.map((el) => el.name)).toEqual(['presence', 'message', 'iq']);
  });

  it('ignores whitespace inside one write', () => {
    const { elements, errors } = parse(`${HEADER} \n<presence/>\r\n\t  <presence/> `);
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(2);
  });

  it('rejects text between stanzas', () => {
    expect(conditionAfterHeader('<presence/> hello <presence/>')).toBe('not-well-formed');
  });

  it('keeps whitespace inside a stanza', () => {
    const { elements } = parse(`${HEADER}<message><body> a  b </body></message>`);
    expect(elements[0]?.getChildText('body')).toBe(' a  b ');
  });

  it('normalizes CRLF in text to LF', () => {
    const { elements } = parse(`${HEADER}<message><body>a\r\nb\rc</body></message>`);
    expect(elements[0]?.getChildText('body')).toBe('a\nb\nc');
  });

  it('normalizes a CRLF split across writes', () => {
    const { parser, elements } = record();
    parser.write(bytes(`${HEADER}<message><body>a\r`));
    parser.write(bytes('\nb</body></message>'));
    expect(elements[0]?.getChildText('body')).toBe('a\nb');
  });

  it('normalizes whitespace in attribute values', () => {
    const { elements } = parse(`${HEADER}<message id='a\r\nb\tc&#10;d'/>`);
    expect(elements[0]?.attrs.id).toBe('a b c\nd');
  });
});

describe('StreamParser references', () => {
  it('decodes predefined entities in text', () => {
    const { elements } = parse(`${HEADER}<message><body>&amp;&lt;&gt;&quot;&apos;</body></message>`);
    expect(elements[0]?.getChildText('body')).toBe('&<>"\'');
  });

  it('decodes predefined entities in attributes', () => {
    const { elements } = parse(`${HEADER}<message id='&amp;&lt;&gt;&quot;&apos;'/>`);
    expect(elements[0]?.attrs.id).toBe('&<>"\'');
  });

  it('decodes decimal and hex character references', () => {
    const { elements } = parse(`${HEADER}<message id='&#65;&#x42;'><body>&#233;&#x1F389;&#x9;</body></message>`);
    expect(elements[0]?.attrs.id).toBe('AB');
    expect(elements[0]?.getChildText('body')).toBe('é🎉\t');
  });

  it('decodes a reference split across writes', () => {
    const text = `${HEADER}<message><body>a&amp;b&#x1F389;c</body></message>`;
    for (let size = 1; size <= 8; size++) {
      const { elements, errors } = parse(text, LIMITS, size);
      expect(errors, `writes of ${size} bytes`).toEqual([]);
      expect(elements[0]?.getChildText('body'), `writes of ${size} bytes`).toBe('a&b🎉c');
    }
  });

  const forbiddenReferences = ['&#0;', '&#1;', '&#x1F;', '&#xFFFE;', '&#xD800;', '&#x110000;'];
  for (const reference of forbiddenReferences) {
    it(`rejects the reference ${reference}`, () => {
      expect(conditionAfterHeader(`<message><body>${reference}</body></message>`)).toBe('not-well-formed');
    });
  }

  it('rejects an undeclared entity in text', () => {
    expect(conditionAfterHeader('<message><body>&foo;</body></message>')).toBe('restricted-xml');
  });

  it('rejects an undeclared entity in an attribute', () => {
    expect(conditionAfterHeader("<message id='&nbsp;'/>")).toBe('restricted-xml');
  });

  it('rejects a bare ampersand', () => {
    expect(conditionAfterHeader('<message><body>a & b</body></message>')).toBe('not-well-formed');
  });

  it('rejects a malformed character reference', () => {
    expect(conditionAfterHeader('<message><body>&#xZZ;</body></message>')).toBe('not-well-formed');
  });
});

describe('StreamParser restricted XML', () => {
  it('rejects a comment between stanzas', () => {
    expect(conditionAfterHeader('<!-- hello -->')).toBe('restricted-xml');
  });

  it('rejects a comment inside a stanza', () => {
    expect(conditionAfterHeader('<message><!-- hello --></message>')).toBe('restricted-xml');
  });

  it('rejects a comment before the header', () => {
    expect(parse(`<!-- hello -->${HEADER}`).errors[0]?.condition).toBe('restricted-xml');
  });

  it('rejects a processing instruction', () => {
    expect(conditionAfterHeader("<message><?php echo 'x' ?></message>")).toBe('restricted-xml');
  });

  it('rejects a DOCTYPE before the header', () => {
    expect(parse(`<!DOCTYPE stream>${HEADER}`).errors[0]?.condition).toBe('restricted-xml');
  });

  it('rejects a DOCTYPE inside a stanza', () => {
    expect(conditionAfterHeader('<message><!DOCTYPE x></message>')).toBe('restricted-xml');
  });

  it('rejects the billion laughs document at the DOCTYPE', () => {
    const entities = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const document = `<?xml version="1.0"?><!DOCTYPE lolz [${entities.join('')}]>${HEADER}<message><body>&lol9;</body></message>`;
    const { errors, headers, elements } = parse(document);
    expect(errors.map((err) => err.condition)).toEqual(['restricted-xml']);
    expect(headers).toEqual([]);
    expect(elements).toEqual([]);
  });
});

describe('StreamParser well-formedness', () => {
  const cases: [string, string][] = [
    ['a mismatched end tag', '<message><body></message></body>'],
    ['an end tag of another prefix', '<message></p:message>'],
    ['an unexpected end tag', '</message>'],
    ['a duplicate attribute', "<message id='1' id='2'/>"],
    ['a duplicate namespace declaration', "<message xmlns='a' xmlns='b'/>"],
    ['< in an attribute value', "<message id='a<b'/>"],
    ['an unquoted attribute', '<message id=1/>'],
    ['an attribute without a value', '<message id/>'],
    ['attributes without whitespace between them', "<message id='1'type='chat'/>"],
    ['an invalid element name', '<1message/>'],
    ['an invalid attribute name', "<message 1id='x'/>"],
    [']]> in text', '<message><body>a]]>b</body></message>'],
    ['a slash not followed by >', '<message /x>'],
  ];
  for (const [label, stanza] of cases) {
    it(`rejects ${label}`, () => {
      expect(conditionAfterHeader(stanza)).toBe('not-well-formed');
    });
  }

  it('accepts non-ASCII names', () => {
    const { elements, errors } = parse(`${HEADER}<données xmlns='urn:x' clé·1='v'/>`);
    expect(errors).toEqual([]);
    expect(elements[0]?.name).toBe('données');
    expect(elements[0]?.attrs).toEqual({ 'clé·1': 'v' });
  });

  it('rejects a non-ASCII character that names cannot contain', () => {
    expect(conditionAfterHeader('<a×b/>')).toBe('not-well-formed');
  });

  it('stores an attribute named __proto__', () => {
    const { elements } = parse(`${HEADER}<message __proto__='x'/>`);
    expect(Object.keys(elements[0]?.attrs ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(elements[0]?.attrs)).toBe(Object.prototype);
  });

  it('accepts > in an attribute value', () => {
    const { elements, errors } = parse(`${HEADER}<message id='a>b' type="c'd"/>`);
    expect(errors).toEqual([]);
    expect(elements[0]?.attrs).toEqual({ id: 'a>b', type: "c'd" });
  });

  it('accepts whitespace around = and before >', () => {
    const { elements, errors } = parse(`${HEADER}<message id = 'x'\n type\t=\t"y" ></message >`);
    expect(errors).toEqual([]);
    expect(elements[0]?.attrs).toEqual({ id: 'x', type: 'y' });
  });

  it('parses a tag split at every offset', () => {
    const stanza = bytes(`<message id='a>b' type = "c'd"><body x='&amp;'>t</body></message>`);
    for (let offset = 1; offset < stanza.length; offset++) {
      const { parser, elements, errors } = record();
      parser.write(bytes(HEADER));
      parser.write(stanza.subarray(0, offset));
      parser.write(stanza.subarray(offset));
      expect(errors, `split at byte ${offset}`).toEqual([]);
      expect(elements[0]?.attrs, `split at byte ${offset}`).toEqual({ id: 'a>b', type: "c'd" });
      expect(elements[0]?.getChild('body')?.attrs.x, `split at byte ${offset}`).toBe('&');
    }
  });

  it('gives the same result for any chunking', () => {
    const stream =
      `<?xml version='1.0'?>${HEADER}\n${UTF8_STANZA} <iq type='result' id='r1'><query xmlns='jabber:iq:roster'>` +
      `<item jid='a@b' name='A &amp; B'><group>Friends</group></item></query></iq>\r\n` +
      `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/>` +
      `<status><![CDATA[away <now>]]></status></presence></stream:stream>`;
    const expected = parse(stream).elements.map((el) => el.toString());
    expect(expected).toHaveLength(3);
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const data = bytes(stream);
    for (let round = 0; round < 200; round++) {
      const recording = record();
      for (let i = 0; i < data.length; ) {
        const size = 1 + Math.floor(random() * 40);
        recording.parser.write(data.subarray(i, i + size));
        i += size;
      }
      expect(recording.errors, `round ${round}`).toEqual([]);
      expect(recording.ends, `round ${round}`).toBe(1);
      expect(recording.elements.map((el) => el.toString()), `round ${round}`).toEqual(expected);
    }
  });

  it('rejects a malformed tag split at every offset', () => {
    const stanza = bytes("<message to='a@b'c='d'><body/></message>");
    for (let offset = 1; offset < stanza.length; offset++) {
      const { parser, elements, errors } = record();
      parser.write(bytes(HEADER));
      parser.write(stanza.subarray(0, offset));
      parser.write(stanza.subarray(offset));
      expect(errors.map((err) => err.condition), `split at byte ${offset}`).toEqual(['not-well-formed']);
      expect(elements, `split at byte ${offset}`).toEqual([]);
    }
  });

  it('rejects ]]> split across writes', () => {
    for (const [first, second] of [['a]', ']>b'], ['a]]', '>b'], ['a]]>', 'b'], ['a', ']]>b']]) {
      const { parser, errors } = record();
      parser.write(bytes(`${HEADER}<message><body>${first}`));
      parser.write(bytes(`${second}</body></message>`));
      expect(errors[0]?.condition, `${first}|${second}`).toBe('not-well-formed');
    }
  });

  it('normalizes a CRLF split in CDATA', () => {
    const { parser, elements } = record();
    parser.write(bytes(`${HEADER}<message><body><![CDATA[a\r`));
    parser.write(bytes('\nb]]></body></message>'));
    expect(elements[0]?.getChildText('body')).toBe('a\nb');
  });

  it('reports one error and ignores later input', () => {
    const { parser, errors, elements } = record();
    parser.write(bytes(`${HEADER}<a></b>`));
    parser.write(bytes('<presence/>'));
    expect(errors).toHaveLength(1);
    expect(elements).toEqual([]);
  });
});

describe('StreamParser limits', () => {
  const stanza = (size: number): string => {
    const shell = "<message><body></body></message>";
    return `<message><body>${'x'.repeat(size - shell.length)}</body></message>`;
  };

  it('accepts a stanza of exactly the limit', () => {
    const { elements, errors } = parse(`${HEADER}${stanza(1000)}`, { maxStanzaBytes: 1000 }, 100);
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
  });

  it('rejects a stanza one byte over the limit', () => {
    const { elements, errors } = parse(`${HEADER}${stanza(1001)}`, { maxStanzaBytes: 1000 });
    expect(errors[0]?.condition).toBe('policy-violation');
    expect(elements).toEqual([]);
  });

  it('counts multibyte characters in bytes', () => {
    const shell = '<message><body></body></message>';
    const body = '€'.repeat((1000 - shell.length) / 3 + 1);
    const { errors } = parse(`${HEADER}<message><body>${body}</body></message>`, { maxStanzaBytes: 1000 }, 50);
    expect(errors[0]?.condition).toBe('policy-violation');
  });

  it('accepts multibyte characters up to the limit', () => {
    const shell = '<message><body></body></message>';
    const body = '€'.repeat(Math.floor((1000 - shell.length) / 3));
    const { elements, errors } = parse(`${HEADER}<message><body>${body}</body></message>`, { maxStanzaBytes: 1000 }, 50);
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
  });

  it('reports an oversize stanza before it ends', () => {
    const { parser, errors } = record({ maxStanzaBytes: 1000 });
    parser.write(bytes(`${HEADER}<message><body>`));
    let writes = 0;
    while (errors.length === 0 && writes < 1000) {
      parser.write(bytes('y'.repeat(100)));
      writes++;
    }
    expect(errors[0]?.condition).toBe('policy-violation');
    expect(writes).toBe(10);
  });

  it('rejects an unterminated start tag over the limit', () => {
    const { parser, errors } = record({ maxStanzaBytes: 1000 });
    parser.write(bytes(`${HEADER}<message id='`));
    for (let i = 0; i < 20 && errors.length === 0; i++) parser.write(bytes('z'.repeat(100)));
    expect(errors[0]?.condition).toBe('policy-violation');
  });

  it('does not count whitespace between stanzas', () => {
    const { elements, errors } = parse(`${HEADER}${' '.repeat(5000)}${stanza(1000)}`, { maxStanzaBytes: 1000 });
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
  });

  it('accepts nesting up to the maximum depth', () => {
    const nested = '<a>'.repeat(100) + '</a>'.repeat(100);
    const { elements, errors } = parse(`${HEADER}${nested}`);
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
  });

  it('rejects nesting beyond the maximum depth', () => {
    const nested = '<a>'.repeat(101) + '</a>'.repeat(101);
    expect(conditionAfterHeader(nested)).toBe('policy-violation');
  });

  it('applies a custom maximum depth', () => {
    expect(conditionAfterHeader('<a><b><c/></b></a>', { maxStanzaBytes: 1000, maxDepth: 2 })).toBe('policy-violation');
  });

  it('rejects too many attributes', () => {
    const attrs = Array.from({ length: 101 }, (_, i) => `a${i}='1'`).join(' ');
    expect(conditionAfterHeader(`<message ${attrs}/>`)).toBe('policy-violation');
  });

  it('accepts attributes up to the maximum', () => {
    const attrs = Array.from({ length: 100 }, (_, i) => `a${i}='1'`).join(' ');
    const { elements, errors } = parse(`${HEADER}<message ${attrs}/>`);
    expect(errors).toEqual([]);
    expect(Object.keys(elements[0]?.attrs ?? {})).toHaveLength(100);
  });

  it('rejects invalid limits', () => {
    expect(() => record({ maxStanzaBytes: 0 })).toThrow(RangeError);
  });
});

describe('StreamParser namespaces', () => {
  it('resolves a prefixed child', () => {
    const { elements } = parse(`${HEADER}<message><p:x xmlns:p='urn:a'/></message>`);
    const child = elements[0]?.getChild('x');
    expect(child?.ns).toBe('urn:a');
    expect(child?.attrs).toEqual({});
  });

  it('resolves a prefixed top-level element', () => {
    const { elements } = parse(`${HEADER}<p:x xmlns:p='urn:a'/>`);
    expect(elements[0]?.name).toBe('x');
    expect(elements[0]?.ns).toBe('urn:a');
  });

  it('resolves stream-prefixed top-level elements', () => {
    const { elements } = parse(`${HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
    expect(elements[0]?.name).toBe('error');
    expect(elements[0]?.ns).toBe(NS.STREAM);
    expect(elements[0]?.getChild('host-unknown')?.ns).toBe(NS.STREAMS);
  });

  it('keeps a declaration used by an attribute', () => {
    const { elements } = parse(`${HEADER}<message xmlns:p='urn:a' p:y='1'/>`);
    expect(elements[0]?.attrs).toEqual({ 'p:y': '1', 'xmlns:p': 'urn:a' });
  });

  it('adds the declaration of an inherited prefix used by an attribute', () => {
    const { elements } = parse(`${HEADER}<message xmlns:p='urn:a'><x p:y='1'/></message>`);
    expect(elements[0]?.attrs).toEqual({});
    expect(elements[0]?.getChild('x')?.attrs).toEqual({ 'p:y': '1', 'xmlns:p': 'urn:a' });
  });

  it('drops plain xmlns from attributes', () => {
    const { elements } = parse(`${HEADER}<iq xmlns='jabber:client' id='1'><query xmlns='jabber:iq:roster'/></iq>`);
    expect(elements[0]?.attrs).toEqual({ id: '1' });
    expect(elements[0]?.getChild('query')?.ns).toBe(NS.ROSTER);
    expect(elements[0]?.getChild('query')?.attrs).toEqual({});
  });

  it('inherits a default namespace to descendants', () => {
    const { elements } = parse(`${HEADER}<iq><query xmlns='jabber:iq:roster'><item/></query></iq>`);
    expect(elements[0]?.getChild('query')?.getChild('item')?.ns).toBe(NS.ROSTER);
  });

  it('keeps xml:lang without a declaration', () => {
    const { elements } = parse(`${HEADER}<message xml:lang='de'/>`);
    expect(elements[0]?.attrs).toEqual({ 'xml:lang': 'de' });
  });

  it('rejects an undeclared element prefix', () => {
    expect(conditionAfterHeader('<p:x/>')).toBe('bad-namespace-prefix');
  });

  it('rejects an undeclared attribute prefix', () => {
    expect(conditionAfterHeader("<message p:y='1'/>")).toBe('bad-namespace-prefix');
  });

  it('rejects a prefix used outside its scope', () => {
    expect(conditionAfterHeader("<a><b xmlns:p='urn:a'/><p:c/></a>")).toBe('bad-namespace-prefix');
  });

  it('rejects two attributes with the same expanded name', () => {
    expect(conditionAfterHeader("<message xmlns:p='urn:a' xmlns:q='urn:a' p:y='1' q:y='2'/>")).toBe('not-well-formed');
  });

  it('accepts binding the xml prefix to its namespace', () => {
    expect(conditionAfterHeader("<message xmlns:xml='http://www.w3.org/XML/1998/namespace'/>")).toBeUndefined();
  });

  it('rejects binding the xml prefix elsewhere', () => {
    expect(conditionAfterHeader("<message xmlns:xml='urn:a'/>")).toBe('not-well-formed');
  });

  it('rejects binding the xmlns prefix', () => {
    expect(conditionAfterHeader("<message xmlns:xmlns='urn:a'/>")).toBe('not-well-formed');
  });

  it('rejects an empty prefixed namespace', () => {
    expect(conditionAfterHeader("<message xmlns:p=''/>")).toBe('not-well-formed');
  });
});

describe('StreamParser reset', () => {
  it('parses a new stream after reset', () => {
    const { parser, headers, elements, errors } = record();
    parser.write(bytes(`${HEADER}<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`));
    parser.reset();
    parser.write(bytes(`<?xml version='1.0'?>${HEADER}<presence/>`));
    expect(errors).toEqual([]);
    expect(headers).toHaveLength(2);
    expect(elements.map((el) => el.name)).toEqual(['starttls', 'presence']);
  });

  it('forgets a partial stanza on reset', () => {
    const { parser, elements, errors } = record();
    parser.write(bytes(`${HEADER}<message><body>unfinished`));
    parser.reset();
    parser.write(bytes(`${HEADER}<presence/>`));
    expect(errors).toEqual([]);
    expect(elements.map((el) => el.name)).toEqual(['presence']);
  });

  it('forgets a partial character on reset', () => {
    const { parser, elements, errors } = record();
    parser.write(concat(bytes(`${HEADER}<message><body>`), [0xe6]));
    parser.reset();
    parser.write(bytes(`${HEADER}<presence/>`));
    expect(errors).toEqual([]);
    expect(elements).toHaveLength(1);
  });

  it('recovers from an error after reset', () => {
    const { parser, elements, errors } = record();
    parser.write(bytes(`${HEADER}<!-- x -->`));
    parser.reset();
    parser.write(bytes(`${HEADER}<presence/>`));
    expect(errors).toHaveLength(1);
    expect(elements).toHaveLength(1);
  });

  it('drops the rest of the chunk when a handler resets', () => {
    const names: string[] = [];
    const headers: Element[] = [];
    const parser: StreamParser = new StreamParser(
      {
        streamStart: (header) => headers.push(header),
        element: (el) => {
          names.push(el.name);
          if (el.name === 'starttls') parser.reset();
        },
        streamEnd: () => {},
        error: (err) => names.push(`error ${err.condition}`),
      },
      LIMITS,
    );
    parser.write(bytes(`${HEADER}<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01`));
    parser.write(bytes(`${HEADER}<presence/>`));
    expect(names).toEqual(['starttls', 'presence']);
    expect(headers).toHaveLength(2);
  });
});

describe('parseFrame', () => {
  const FRAME_LIMITS: StreamParserOptions = { maxStanzaBytes: 1000 };

  it('parses one element', () => {
    const el = parseFrame("<message xmlns='jabber:client' to='a@b'><body>hi</body></message>", FRAME_LIMITS);
    expect(el.name).toBe('message');
    expect(el.ns).toBe('jabber:client');
    expect(el.attrs).toEqual({ to: 'a@b' });
    expect(el.getChildText('body')).toBe('hi');
  });

  it('parses an open element', () => {
    const el = parseFrame("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>", FRAME_LIMITS);
    expect(el.name).toBe('open');
    expect(el.ns).toBe(NS.FRAMING);
    expect(el.attrs).toEqual({ to: 'example.test', version: '1.0' });
  });

  it('parses a close element', () => {
    const el = parseFrame("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", FRAME_LIMITS);
    expect(el.name).toBe('close');
    expect(el.ns).toBe(NS.FRAMING);
  });

  it('gives an undeclared namespace as empty', () => {
    expect(parseFrame('<message/>', FRAME_LIMITS).ns).toBe('');
  });

  it('accepts surrounding whitespace', () => {
    expect(parseFrame(" \n<message xmlns='jabber:client'/>\n", FRAME_LIMITS).name).toBe('message');
  });

  const frameError = (text: string, options = FRAME_LIMITS): string | undefined => {
    try {
      parseFrame(text, options);
    } catch (err) {
      if (err instanceof XmlParseError) return err.condition;
      throw err;
    }
    return undefined;
  };

  it('rejects two elements', () => {
    expect(frameError("<message xmlns='jabber:client'/><presence xmlns='jabber:client'/>")).toBe('not-well-formed');
  });

  it('rejects a partial element', () => {
    expect(frameError("<message xmlns='jabber:client'><body>hi</body>")).toBe('not-well-formed');
  });

  it('rejects a split start tag', () => {
    expect(frameError("<message xmlns='jabber:cl")).toBe('not-well-formed');
  });

  it('rejects text outside the element', () => {
    expect(frameError("hello<message xmlns='jabber:client'/>")).toBe('not-well-formed');
  });

  it('rejects text after the element', () => {
    expect(frameError("<message xmlns='jabber:client'/>hello")).toBe('not-well-formed');
  });

  it('rejects an empty frame', () => {
    expect(frameError('  ')).toBe('not-well-formed');
  });

  it('rejects a stream header', () => {
    expect(frameError(HEADER)).toBe('not-well-formed');
  });

  it('rejects a self-closing stream header', () => {
    expect(frameError(HEADER.replace('>', '/>'))).toBe('not-well-formed');
  });

  it('rejects a comment', () => {
    expect(frameError("<message xmlns='jabber:client'><!-- x --></message>")).toBe('restricted-xml');
  });

  it('rejects an undeclared prefix', () => {
    expect(frameError('<p:message/>')).toBe('bad-namespace-prefix');
  });

  it('rejects a frame over the limit', () => {
    expect(frameError(`<message xmlns='jabber:client'><body>${'x'.repeat(1000)}</body></message>`)).toBe('policy-violation');
  });

  it('rejects a lone surrogate', () => {
    expect(frameError("<message xmlns='jabber:client'><body>\uD800</body></message>")).toBe('not-well-formed');
  });
});
