/** vcard-temp (XEP-0054) with vCard-based avatar hashes in presence (XEP-0153). */
import { NS, StanzaError, serialize } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { PHOTO_HASH_EVENT, applyAvatarChange, receiveRelayedHash, vcardPhotoChanged } from './avatar-sync.js';
import { PhotoHashes, stampPhotoHash } from './presence-stamp.js';
import { syncDepartmentName, syncProfile } from './profile-sync.js';
import { emptyVcard, loadVcard, saveVcard } from './storage.js';

// NOTE: base64 photos count against this limit; XEP-0153 section 4.6 tells clients to keep images under 8 KiB.
/** Largest vCard accepted, in bytes of serialized XML. */
export const MAX_VCARD_BYTES = 64 * 1024;

/** Priority of the presence stamping hook: above the default 0, so it runs before presence broadcast. */
const STAMP_PRIORITY = 100;

/**
 * Returns the stored vCard, or an empty one when the account has none. XEP-0054 section 3.3
 * asks for an error when another user's vCard is missing, so that accounts cannot be
 * discovered, but this server does not hide which accounts exist (a message to a missing
 * account is answered with an error, and the organisation directory lists them), and
 * clients such as slixmpp expect an empty vCard, as Prosody returns.
 */
async function getVcard(server: ServerContext, { to }: IqRequest) {
  return (await loadVcard(server, to.domain, to.local)) ?? emptyVcard();
}

async function setVcard(server: ServerContext, { payload, to, self }: IqRequest): Promise<void> {
  // XEP-0054 section 3.2: forbidden or not-allowed for someone else's vCard.
  if (!self) throw new StanzaError('forbidden', "The vCard of another account can't be changed.");

  const bytes = Buffer.byteLength(serialize(payload), 'utf8');
  if (bytes > MAX_VCARD_BYTES) {
    throw new StanzaError('policy-violation', `The vCard has ${bytes} bytes, more than the limit of ${MAX_VCARD_BYTES} bytes.`);
  }

  const before = await loadVcard(server, to.domain, to.local);
  await saveVcard(server, to.domain, to.local, payload);
  // XEP-0398: the PEP avatar and the profile follow a new PHOTO.
  await vcardPhotoChanged(server, to.domain, to.local, before, payload);
}

/** XEP-0398: the server converts between vCard PHOTO and the PEP avatar (XEP-0084). */
const NS_PEP_VCARD_CONVERSION = 'urn:xmpp:pep-vcard-conversion:0';

export const vcardModule = defineModule({
  name: 'vcard',
  specs: [
    { spec: 'XEP-0054', version: '1.3.0', status: 'complete', note: `vCards up to ${MAX_VCARD_BYTES} bytes` },
    { spec: 'XEP-0153', version: '1.1.1', status: 'complete', note: 'the server stamps the stored photo hash into available presence, and sends presence again when the avatar changes' },
    { spec: 'XEP-0398', status: 'complete', note: 'vCard PHOTO, PEP avatar (XEP-0084) and the account profile avatar follow each other' },
  ],
  setup(ctx) {
    const { server } = ctx;
    const hashes = new PhotoHashes(server);
    server.disco.addHostFeature(NS.VCARD);
    server.disco.addAccountFeature(NS.VCARD, NS_PEP_VCARD_CONVERSION);

    ctx.iq('get', 'account', NS.VCARD, 'vCard', (request) => getVcard(server, request));
    ctx.iq('set', 'account', NS.VCARD, 'vCard', (request) => setVcard(server, request));

    ctx.on('presence/outbound', (event) => stampPhotoHash(hashes, event), STAMP_PRIORITY);
    server.cluster?.onAccountEvent(PHOTO_HASH_EVENT, (user, hash) => receiveRelayedHash(server, hashes, user, hash));
    ctx.on('session/closed', ({ session }) => {
      if (session.jid && server.sessions.resources(session.jid).length === 0) hashes.forget(session.jid.local);
    });
    ctx.on('account/deleted', ({ username }) => hashes.forget(username));

    // Profiles from the admin API and import fill the vCard; avatars stay in step with PEP (XEP-0398).
    const local = (host: string): boolean => host === server.config.domain;
    ctx.on('account/created', ({ host, username }) => (local(host) ? syncProfile(server, host, username) : undefined));
    ctx.on('account/updated', ({ host, username, changed }) => (local(host) ? syncProfile(server, host, username, changed) : undefined));
    ctx.on('org/group-changed', ({ host, id, changed }) => (local(host) && changed.includes('name') ? syncDepartmentName(server, host, id) : undefined));
    ctx.on('avatar/changed', (event) => (local(event.host) ? applyAvatarChange(server, hashes, event, MAX_VCARD_BYTES) : undefined));
  },
});
