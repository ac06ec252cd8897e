/**
 * Keeps the vCard side of an account's avatar in step (XEP-0398): the vCard PHOTO, the
 * profile's avatar and the XEP-0153 hash stamped on presence. Avatar changes from the
 * profile and from PEP arrive as 'avatar/changed'; a vCard set with a new PHOTO fires it.
 */
import { type Element, JID, serialize } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { AvatarChangedEvent } from '../../core/events.js';
import { ProfileRepository } from '../../storage/index.js';
import { photoHash } from './photo.js';
import type { PhotoHashes } from './presence-stamp.js';
import { photoOf, withPhoto } from './profile-fields.js';
import { rebroadcastPhotoHash } from './rebroadcast.js';
import { emptyVcard, loadVcard, saveVcard } from './storage.js';

/**
 * Applies an avatar change that came from elsewhere: the vCard gets the PHOTO unless the
 * change came from it, the profile gets the image unless it came from the profile, and
 * the presence hash follows. Each step does nothing when its copy is current, so the
 * events that the steps cause in turn end here.
 */
export async function applyAvatarChange(server: ServerContext, hashes: PhotoHashes, event: AvatarChangedEvent, maxVcardBytes: number): Promise<void> {
  const { host, username, avatar, source } = event;
  if (source !== 'vcard') await writePhoto(server, host, username, avatar, maxVcardBytes);
  if (source !== 'profile') await storeProfileAvatar(server, host, username, avatar);
  await updateHash(server, hashes, username, avatar?.sha1 ?? '');
}

/** Fires 'avatar/changed' for a vCard that the user set, when its PHOTO differs from the one stored before. */
export async function vcardPhotoChanged(server: ServerContext, host: string, username: string, before: Element | undefined, after: Element): Promise<void> {
  const hash = photoHash(after);
  if (hash === (before === undefined ? '' : photoHash(before))) return;
  const photo = photoOf(after);
  const avatar = photo === null ? null : { ...photo, sha1: hash };
  await server.hooks.fire('avatar/changed', { host, username, avatar, source: 'vcard' });
}

async function writePhoto(server: ServerContext, host: string, username: string, avatar: AvatarChangedEvent['avatar'], maxVcardBytes: number): Promise<void> {
  const current = (await loadVcard(server, host, username)) ?? emptyVcard();
  if (photoHash(current) === (avatar?.sha1 ?? '')) return;

  const next = withPhoto(current, avatar);
  const bytes = Buffer.byteLength(serialize(next), 'utf8');
  if (bytes > maxVcardBytes) {
    // A vCard above the limit could not be set again by the user's client, so the PHOTO stays out.
    server.log.warn({ username, bytes, maxVcardBytes }, 'avatar left out of the vCard: the vCard would exceed the size limit');
    return;
  }
  await saveVcard(server, host, username, next);
}

/** Stores the image as the profile's avatar and reports the change as a profile update. */
async function storeProfileAvatar(server: ServerContext, host: string, username: string, avatar: AvatarChangedEvent['avatar']): Promise<void> {
  const profile = await server.storage.profiles.get(host, username);
  if ((profile?.avatarSha1 ?? null) === (avatar?.sha1 ?? null)) return;
  await server.storage.db.transaction().execute((trx) => new ProfileRepository(trx).setAvatar(host, username, avatar));
  await server.hooks.fire('account/updated', { host, username, changed: ['avatar'] });
}

async function updateHash(server: ServerContext, hashes: PhotoHashes, username: string, hash: string): Promise<void> {
  if ((await hashes.get(username)) === hash) return;
  hashes.set(username, hash);
  await rebroadcastPhotoHash(server, username, hash);
  await server.cluster
    ?.relayToAccount(PHOTO_HASH_EVENT, JID.fromParts(username, server.config.domain), hash)
    .catch((err: unknown) => server.log.warn({ err, username }, 'relaying a new photo hash to other nodes failed'));
}

/** The cluster event that carries a new photo hash to the nodes with sessions of the account. */
export const PHOTO_HASH_EVENT = 'vcard/photo-hash';

/** Handles a new photo hash another node relayed: stamps it from now on and sends the presence of the sessions here again. */
export async function receiveRelayedHash(server: ServerContext, hashes: PhotoHashes, user: JID, hash: string): Promise<void> {
  hashes.set(user.local, hash);
  await rebroadcastPhotoHash(server, user.local, hash);
}
