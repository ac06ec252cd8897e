import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { readAnnouncement, verifyCaps } from './client-caps.js';
import { notifyNodes } from './presence.js';

// The simple example of XEP-0115 section 5.2.
function exodus() {
  return x(
    'query',
    NS.DISCO_INFO,
    {},
    x('identity', NS.DISCO_INFO, { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
    ...['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc', 'http://jabber.org/protocol/caps'].map(
      (feature) => x('feature', NS.DISCO_INFO, { var: feature }),
    ),
  );
}

function presence(attrs: Record<string, string>) {
  return x('presence', NS.CLIENT, {}, x('c', NS.CAPS, attrs));
}

describe('readAnnouncement', () => {
  it('keys by hash and ver', () => {
    const announcement = readAnnouncement(presence({ hash: 'sha-1', node: 'http://code.google.com/p/exodus', ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=' }));
    expect(announcement?.key).toBe('sha-1 QgayPKawpkPSDYmwT/WM94uAlu0=');
    expect(announcement?.hash).toBe('sha1');
  });

  it('marks the legacy format unverifiable', () => {
    const announcement = readAnnouncement(presence({ node: 'http://psi-im.org/caps', ver: '0.11' }));
    expect(announcement?.hash).toBeUndefined();
    expect(announcement?.key).toBe('legacy http://psi-im.org/caps#0.11');
  });

  it('ignores presence without caps', () => {
    expect(readAnnouncement(x('presence', NS.CLIENT))).toBeUndefined();
    expect(readAnnouncement(presence({ hash: 'sha-1', node: 'n' }))).toBeUndefined();
  });
});

describe('verifyCaps', () => {
  it('accepts the XEP-0115 example', () => {
    expect(verifyCaps(exodus(), 'QgayPKawpkPSDYmwT/WM94uAlu0=', 'sha1')).toBe(true);
  });

  it('rejects a forged ver', () => {
    const forged = exodus().append(x('feature', NS.DISCO_INFO, { var: 'urn:xmpp:avatar:metadata+notify' }));
    expect(verifyCaps(forged, 'QgayPKawpkPSDYmwT/WM94uAlu0=', 'sha1')).toBe(false);
  });
});

describe('notifyNodes', () => {
  it('strips the +notify suffix', () => {
    expect(notifyNodes(['urn:xmpp:avatar:metadata+notify', 'urn:xmpp:ping', 'urn:xmpp:bookmarks:1+notify'])).toEqual(['urn:xmpp:avatar:metadata', 'urn:xmpp:bookmarks:1']);
  });
});
