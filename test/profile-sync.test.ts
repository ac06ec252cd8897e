import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { startTestServer, type TestServer } from './support/server.js';
import type { TestClient } from './support/client.js';
import { PASSWORD, eventEntry, getItems, isEvent, itemIds, online, publish, sharePresence } from './support/pep.js';

const AVATAR_DATA = 'urn:xmpp:avatar:data';
const AVATAR_METADATA = 'urn:xmpp:avatar:metadata';
const ALICE = 'alice@example.test';

/** A 1x1 PNG; `variant` bytes after its end make distinct images with distinct hashes. */
function png(variant: number): Buffer {
  const image = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  return Buffer.concat([image, Buffer.from([variant])]);
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

function photoHashOf(presence: Element): string | undefined {
  return presence.getChild('x', NS.VCARD_UPDATE)?.getChildText('photo', NS.VCARD_UPDATE);
}

function isAlicePresenceWithHash(hash: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && (el.attr('from') ?? '').startsWith(`${ALICE}/`) && el.attr('type') === undefined && photoHashOf(el) === hash;
}

async function vcardOf(client: TestClient, jid: string): Promise<Element> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: jid }, x('vCard', NS.VCARD)));
  expect(reply.attr('type'), reply.toString()).toBe('result');
  return reply.getChild('vCard', NS.VCARD)!;
}

function vcardText(vcard: Element, ...path: string[]): string | undefined {
  let element: Element | undefined = vcard;
  for (const name of path.slice(0, -1)) element = element?.getChild(name, NS.VCARD);
  return element?.getChildText(path.at(-1)!, NS.VCARD);
}

describe('profile, vCard and avatar synchronisation', () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    server = await startTestServer({ directory: { organization: 'Example Corp' } });
    await upsertAccount(server.server, { username: 'alice', password: PASSWORD, displayName: 'Alice' });
    await upsertAccount(server.server, { username: 'bob', password: PASSWORD, displayName: 'Bob' });
    await sharePresence(server, 'alice', 'bob');
    alice = await online(server, 'alice', { resource: 'desk' });
    bob = await online(server, 'bob', { resource: 'phone', features: [`${AVATAR_METADATA}+notify`] });

    // A field the user set that the profile does not own.
    const own = x('vCard', NS.VCARD, {}, x('FN', NS.VCARD, {}, 'Alice'), x('NICKNAME', NS.VCARD, {}, 'ally'));
    expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, own))).attr('type')).toBe('result');
  });

  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('writes a profile update to the vCard, PEP and the presence hash', async () => {
    const image = png(1);
    const hash = sha1(image);
    const presence = bob.next(isAlicePresenceWithHash(hash), 3000);
    const notification = bob.next(isEvent(ALICE, AVATAR_METADATA), 3000);

    await upsertAccount(server.server, {
      username: 'alice',
      displayName: 'Alice Liddell',
      email: 'alice@corp.example',
      phone: '+1 555 0100',
      title: 'Engineer',
      department: 'eng',
      departmentName: 'Engineering',
      avatar: { type: 'image/png', data: image },
    });

    await presence;
    const info = eventEntry(await notification)?.getChild('metadata', AVATAR_METADATA)?.getChild('info', AVATAR_METADATA);
    expect(info?.attrs).toMatchObject({ id: hash, type: 'image/png', bytes: String(image.length) });

    const vcard = await vcardOf(bob, ALICE);
    expect(vcardText(vcard, 'FN')).toBe('Alice Liddell');
    expect(vcardText(vcard, 'NICKNAME')).toBe('ally');
    expect(vcardText(vcard, 'EMAIL', 'USERID')).toBe('alice@corp.example');
    expect(vcardText(vcard, 'TEL', 'NUMBER')).toBe('+1 555 0100');
    expect(vcardText(vcard, 'ORG', 'ORGNAME')).toBe('Example Corp');
    expect(vcardText(vcard, 'ORG', 'ORGUNIT')).toBe('Engineering');
    expect(vcardText(vcard, 'TITLE')).toBe('Engineer');
    expect(vcardText(vcard, 'PHOTO', 'TYPE')).toBe('image/png');
    expect(vcardText(vcard, 'PHOTO', 'BINVAL')).toBe(image.toString('base64'));

    const data = await getItems(bob, AVATAR_DATA, ALICE);
    expect(itemIds(data)).toEqual([hash]);
  });

  it('leaves vCard fields alone that an update does not change', async () => {
    await upsertAccount(server.server, { username: 'alice', title: 'Lead Engineer' });
    const vcard = await vcardOf(alice, ALICE);
    expect(vcardText(vcard, 'TITLE')).toBe('Lead Engineer');
    expect(vcardText(vcard, 'FN')).toBe('Alice Liddell');
    expect(vcardText(vcard, 'NICKNAME')).toBe('ally');
  });

  it('follows an avatar published with PEP in the vCard, profile and presence', async () => {
    const image = png(2);
    const hash = sha1(image);
    const presence = bob.next(isAlicePresenceWithHash(hash), 3000);

    expect((await publish(alice, AVATAR_DATA, hash, x('data', AVATAR_DATA, {}, image.toString('base64')))).attr('type')).toBe('result');
    const info = x('info', AVATAR_METADATA, { bytes: String(image.length), id: hash, type: 'image/png' });
    expect((await publish(alice, AVATAR_METADATA, hash, x('metadata', AVATAR_METADATA, {}, info))).attr('type')).toBe('result');

    await presence;
    const vcard = await vcardOf(bob, ALICE);
    expect(vcardText(vcard, 'PHOTO', 'BINVAL')).toBe(image.toString('base64'));
    expect((await server.server.storage.profiles.get(server.domain, 'alice'))?.avatarSha1).toBe(hash);
    expect((await server.server.storage.profiles.getAvatar(server.domain, 'alice'))?.data.equals(image)).toBe(true);
  });

  it('publishes a vCard PHOTO to PEP and the profile', async () => {
    const image = png(3);
    const hash = sha1(image);
    const presence = bob.next(isAlicePresenceWithHash(hash), 3000);
    const notification = bob.next((el) => isEvent(ALICE, AVATAR_METADATA)(el) && eventEntry(el)?.attr('id') === hash, 3000);

    const current = await vcardOf(alice, ALICE);
    current.removeChildren((child) => child.name === 'PHOTO');
    current.append(x('PHOTO', NS.VCARD, {}, x('TYPE', NS.VCARD, {}, 'image/png'), x('BINVAL', NS.VCARD, {}, image.toString('base64'))));
    expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, current))).attr('type')).toBe('result');

    await presence;
    await notification;
    expect(itemIds(await getItems(bob, AVATAR_DATA, ALICE))).toEqual([hash]);
    expect((await server.server.storage.profiles.get(server.domain, 'alice'))?.avatarSha1).toBe(hash);
  });

  it('removes the avatar everywhere when the profile drops it', async () => {
    const presence = bob.next((el) => isAlicePresenceWithHash('')(el) || (el.name === 'presence' && (el.attr('from') ?? '').startsWith(`${ALICE}/`) && photoHashOf(el) === undefined && el.getChild('x', NS.VCARD_UPDATE) !== undefined), 3000);
    const notification = bob.next((el) => isEvent(ALICE, AVATAR_METADATA)(el) && eventEntry(el)?.getChild('metadata', AVATAR_METADATA)?.getChild('info', AVATAR_METADATA) === undefined, 3000);

    await upsertAccount(server.server, { username: 'alice', avatar: null });

    await presence;
    await notification;
    const vcard = await vcardOf(bob, ALICE);
    expect(vcard.getChild('PHOTO', NS.VCARD)).toBeUndefined();
    expect(vcardText(vcard, 'NICKNAME')).toBe('ally');
    expect((await server.server.storage.profiles.get(server.domain, 'alice'))?.avatarSha1).toBeNull();
  });
});
