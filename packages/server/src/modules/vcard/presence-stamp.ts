/**
 * Server-side stamping of vCard-based avatar hashes (XEP-0153) into the available presence
 * that users send, so that contacts learn the current avatar even from clients that do not
 * implement XEP-0153 or that missed a change made by another resource.
 */
import { NS, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent } from '../../core/events.js';
import { photoHash } from './photo.js';
import { loadVcard } from './storage.js';

/** Photo hashes of the accounts with sessions, by username; '' stands for "no photo". */
export class PhotoHashes {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly server: ServerContext) {}

  /** Returns the account's photo hash, reading the stored vCard the first time. */
  async get(username: string): Promise<string> {
    const cached = this.hashes.get(username);
    if (cached !== undefined) return cached;
    const vcard = await loadVcard(this.server, this.server.config.domain, username);
    const hash = vcard === undefined ? '' : photoHash(vcard);
    this.hashes.set(username, hash);
    return hash;
  }

  set(username: string, hash: string): void {
    this.hashes.set(username, hash);
  }

  forget(username: string): void {
    this.hashes.delete(username);
  }
}

/**
 * Replaces any `<x xmlns='vcard-temp:x:update'/>` of an outbound available presence with one
 * that carries the hash of the stored photo: `<photo/>` is empty when the vCard has no photo
 * (XEP-0153 section 4.1, rule 3). The presence is changed in place and not claimed.
 */
export async function stampPhotoHash(hashes: PhotoHashes, { stanza, session }: OutboundEvent): Promise<void> {
  if (stanza.attr('type') !== undefined || session.username === undefined) return;
  const hash = await hashes.get(session.username);
  stanza.removeChildren((child) => child.name === 'x' && child.ns === NS.VCARD_UPDATE);
  stanza.append(x('x', NS.VCARD_UPDATE, {}, x('photo', NS.VCARD_UPDATE, {}, hash || undefined)));
}
