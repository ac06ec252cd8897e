import { describe, expect, it } from 'vitest';
import { parseFrame, x, type XElement } from '../xmpp/index.js';
import { attachmentLabel, conversationPreview, formatDuration, formatSize, previewText, type Translate } from './attachment-text.js';
import type { Attachment } from './attachment-types.js';
import { NS } from './ns.js';
import { attachmentElements, FILE_NS, readAttachment } from './oob.js';
import { chatMessage } from './outgoing.js';

const URL_PNG = 'https://upload.example.test/files/abc/photo.png';

function message(...children: XElement[]): XElement {
  return x('message', NS.CLIENT, { from: 'bob@example.test/phone', type: 'chat' }, ...children);
}

/** Serializes and parses again, as the stanza travels. */
function overTheWire(stanza: XElement): XElement {
  return parseFrame(stanza.toString());
}

const labels: Translate = (key, params) => `${key}|${Object.values(params).join('|')}`;

describe('file-sharing and OOB elements', () => {
  it('round-trips every metadata field through a sent stanza', () => {
    const sent: Attachment = { url: URL_PNG, name: '季度报告 Q4.png', type: 'image/png', size: 20480, width: 800, height: 600, purpose: 'image' };
    const stanza = overTheWire(chatMessage('bob@example.test', 'chat', 'id1', URL_PNG, attachmentElements(sent)));

    expect(stanza.getChild('x', FILE_NS.OOB)?.getChildText('url', FILE_NS.OOB)).toBe(URL_PNG);
    expect(stanza.getChild('file-sharing', FILE_NS.SFS)?.attr('disposition')).toBe('inline');
    expect(stanza.getChild('origin-id', NS.SID)?.attr('id')).toBe('id1');
    expect(readAttachment(stanza)).toEqual(sent);
  });

  it('carries recording length and disposition', () => {
    const voice = overTheWire(message(...attachmentElements({ url: 'https://h.test/v.webm', name: 'v.webm', type: 'audio/webm', durationMs: 7400.4 })));
    expect(voice.getChild('file-sharing', FILE_NS.SFS)?.getChild('file', FILE_NS.FILE)?.getChildText('length', FILE_NS.FILE)).toBe('7400');
    expect(readAttachment(voice)).toMatchObject({ purpose: 'voice', durationMs: 7400 });

    const pdf = overTheWire(message(...attachmentElements({ url: 'https://h.test/r.pdf', name: 'r.pdf', type: 'application/pdf', size: 5 })));
    expect(pdf.getChild('file-sharing', FILE_NS.SFS)?.attr('disposition')).toBe('attachment');
    expect(readAttachment(pdf)).toMatchObject({ purpose: 'file', name: 'r.pdf', size: 5 });
  });

  it('reads an OOB-only message (Conversations style)', () => {
    const url = 'https://share.example.net/upload/x1/%E5%AD%A3%E5%BA%A6%20report.jpg';
    const stanza = overTheWire(message(x('body', NS.CLIENT, {}, url), x('x', FILE_NS.OOB, {}, x('url', FILE_NS.OOB, {}, url))));
    expect(readAttachment(stanza)).toEqual({ url, name: '季度 report.jpg', type: 'image/jpeg', purpose: 'image' });
  });

  it('ignores unsafe or malformed input without throwing', () => {
    const cases = [
      message(x('x', FILE_NS.OOB, {}, x('url', FILE_NS.OOB, {}, 'javascript:alert(1)'))),
      message(x('x', FILE_NS.OOB, {}, x('url', FILE_NS.OOB, {}, 'not a url'))),
      message(x('x', FILE_NS.OOB)),
      message(x('file-sharing', FILE_NS.SFS, {}, x('sources', FILE_NS.SFS))),
      message(x('file-sharing', FILE_NS.SFS, {}, x('file', FILE_NS.FILE), x('sources', FILE_NS.SFS, {}, x('url-data', FILE_NS.URL_DATA, { target: 'data:text/html,hi' })))),
    ];
    for (const stanza of cases) expect(readAttachment(stanza)).toBeUndefined();
  });

  it('drops bad numbers, bad types and path characters but keeps the file', () => {
    const file = x(
      'file',
      FILE_NS.FILE,
      {},
      x('media-type', FILE_NS.FILE, {}, 'text/html; <script>'),
      x('name', FILE_NS.FILE, {}, '../../etc/\u0000passwd'),
      x('size', FILE_NS.FILE, {}, '-5'),
      x('width', FILE_NS.FILE, {}, '1e9'),
      x('height', FILE_NS.FILE, {}, '99999999999'),
      x('length', FILE_NS.FILE, {}, 'NaN'),
    );
    const stanza = message(x('file-sharing', FILE_NS.SFS, {}, file, x('sources', FILE_NS.SFS, {}, x('url-data', FILE_NS.URL_DATA, { target: 'https://h.test/a' }))));
    expect(readAttachment(stanza)).toEqual({ url: 'https://h.test/a', name: '....etcpasswd', purpose: 'file' });
  });

  it('prefers file-sharing metadata over the bare OOB URL', () => {
    const elements = attachmentElements({ url: URL_PNG, name: 'nice name.png', type: 'image/png', width: 10, height: 20 });
    expect(readAttachment(message(...elements.reverse()))).toMatchObject({ name: 'nice name.png', width: 10, height: 20 });
  });
});

describe('texts for files', () => {
  it('labels previews by kind, and leaves a body with its own words alone', () => {
    expect(attachmentLabel({ url: URL_PNG, name: 'a.png', type: 'image/png' }, labels)).toBe('files.preview.image|a.png');
    expect(attachmentLabel({ url: URL_PNG, name: 'a.pdf' }, labels)).toBe('files.preview.file|a.pdf');
    expect(attachmentLabel({ url: URL_PNG, name: 'v.webm', type: 'audio/webm', durationMs: 7000 }, labels)).toBe('files.preview.voice|0:07');
    expect(attachmentLabel({ url: URL_PNG, name: 'c.mp4', type: 'video/mp4', durationMs: 12_400 }, labels)).toBe('files.preview.video|0:12');

    const attachment = { url: URL_PNG, name: 'a.png', type: 'image/png' };
    expect(previewText({ body: URL_PNG, attachment }, labels)).toBe('files.preview.image|a.png');
    expect(previewText({ body: 'look at this', attachment }, labels)).toBe('look at this');
    expect(previewText({ body: 'plain' }, labels)).toBe('plain');
    expect(conversationPreview({ preview: URL_PNG, previewAttachment: attachment }, labels)).toBe('files.preview.image|a.png');
  });

  it('formats durations and sizes', () => {
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('0:00');
    expect(formatDuration(61_000)).toBe('1:01');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatSize(980, 'en')).toBe('980 B');
    expect(formatSize(1536, 'en')).toBe('1.5 KB');
    expect(formatSize(10 * 1024 * 1024, 'en')).toBe('10 MB');
  });
});
