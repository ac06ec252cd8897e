/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: service discovery of the MUC
 * service, its rooms and their features, and the reserved room nickname.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { DOMAIN, bare, useMucServer } from './support/muc-fixture.js';
import { MUC_SERVICE, NS_MUC, adminSetOk, createRoom, discoFeatures, discoInfo, discoItems, enter, stanzaError } from './support/muc.js';

const fx = useMucServer();

function identities(reply: Element): Record<string, string>[] {
  return reply.getChild('query', NS.DISCO_INFO)?.getChildren('identity', NS.DISCO_INFO).map((el) => el.attrs) ?? [];
}

function itemJids(reply: Element): string[] {
  return reply.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS).map((el) => el.attr('jid') ?? '') ?? [];
}

async function roomWithOwner(room: string, config?: Record<string, string | boolean>): Promise<TestClient> {
  const crone = await fx.connect('crone1');
  await createRoom(crone, `${room}/firstwitch`, config);
  return crone;
}

describe('6.1 discovering a MUC service', () => {
  it('lists the service in the server items', async () => {
    const hag = await fx.connect('hag66', 'pda');

    const reply = await discoItems(hag, DOMAIN);

    expect(itemJids(reply)).toContain(MUC_SERVICE);
  });
});

describe('6.2 discovering the features of a MUC service', () => {
  it('returns the conference identity and muc feature', async () => {
    const hag = await fx.connect('hag66', 'pda');

    const reply = await discoInfo(hag, MUC_SERVICE);

    expect(reply.attr('type')).toBe('result');
    expect(identities(reply)).toContainEqual(expect.objectContaining({ category: 'conference', type: 'text' }));
    expect(discoFeatures(reply)).toContain(NS_MUC);
  });
});

describe('6.3 discovering rooms', () => {
  it('lists public rooms, not hidden ones (SHOULD)', async () => {
    const publicRoom = fx.newRoom();
    const hiddenRoom = fx.newRoom();
    await roomWithOwner(publicRoom, { 'muc#roomconfig_publicroom': true });
    const wicca = await fx.connect('wiccarocks');
    await createRoom(wicca, `${hiddenRoom}/secondwitch`, { 'muc#roomconfig_publicroom': false });
    const hag = await fx.connect('hag66', 'pda');

    const items = itemJids(await discoItems(hag, MUC_SERVICE));

    expect(items).toContain(publicRoom);
    expect(items).not.toContain(hiddenRoom);
  });
});

describe('6.4 querying for room information', () => {
  it('returns the identity and muc feature', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, { 'muc#roomconfig_roomname': 'A Dark Cave' });
    const hag = await fx.connect('hag66', 'pda');

    const reply = await discoInfo(hag, room);

    expect(reply.attr('type')).toBe('result');
    expect(identities(reply)).toContainEqual(expect.objectContaining({ category: 'conference', type: 'text' }));
    expect(discoFeatures(reply)).toContain(NS_MUC);
  });

  it('describes an open unmoderated room (SHOULD)', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, {
      'muc#roomconfig_publicroom': false,
      'muc#roomconfig_persistentroom': false,
      'muc#roomconfig_membersonly': false,
      'muc#roomconfig_moderatedroom': false,
      'muc#roomconfig_whois': 'anyone',
      'muc#roomconfig_passwordprotectedroom': true,
      'muc#roomconfig_roomsecret': 'cauldronburn',
    });
    const hag = await fx.connect('hag66', 'pda');

    const features = discoFeatures(await discoInfo(hag, room));

    expect(features).toEqual(expect.arrayContaining(['muc_hidden', 'muc_temporary', 'muc_open', 'muc_unmoderated', 'muc_nonanonymous', 'muc_passwordprotected']));
    expect(features).not.toContain('muc_public');
    expect(features).not.toContain('muc_persistent');
    expect(features).not.toContain('muc_membersonly');
    expect(features).not.toContain('muc_moderated');
    expect(features).not.toContain('muc_semianonymous');
    expect(features).not.toContain('muc_unsecured');
  });

  it('describes a members-only moderated room (SHOULD)', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, {
      'muc#roomconfig_publicroom': true,
      'muc#roomconfig_persistentroom': true,
      'muc#roomconfig_membersonly': true,
      'muc#roomconfig_moderatedroom': true,
      'muc#roomconfig_whois': 'moderators',
      'muc#roomconfig_passwordprotectedroom': false,
    });
    const hag = await fx.connect('hag66', 'pda');

    const features = discoFeatures(await discoInfo(hag, room));

    expect(features).toEqual(expect.arrayContaining(['muc_public', 'muc_persistent', 'muc_membersonly', 'muc_moderated', 'muc_semianonymous', 'muc_unsecured']));
    expect(features).not.toContain('muc_hidden');
    expect(features).not.toContain('muc_open');
    expect(features).not.toContain('muc_nonanonymous');
  });
});

describe('6.5 querying for room items', () => {
  it('returns occupant JIDs or an empty list', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66', 'pda');

    const reply = await discoItems(hag, room);

    expect(reply.attr('type')).toBe('result');
    const items = reply.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
    for (const item of items) {
      expect(item.attr('jid')?.startsWith(`${room}/`)).toBe(true);
      expect(item.attr('role')).toBeUndefined();
      expect(item.attr('affiliation')).toBeUndefined();
    }
  });
});

describe('7.12 discovering the reserved room nickname', () => {
  it('returns the registered nick or feature-not-implemented', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66'), nick: 'thirdwitch' });
    const hag = await fx.connect('hag66', 'pda');

    const reply = await discoInfo(hag, room, 'x-roomuser-item');

    if (reply.attr('type') === 'error') {
      expect(stanzaError(reply)?.condition).toBe('feature-not-implemented');
    } else {
      expect(identities(reply)).toContainEqual(expect.objectContaining({ category: 'conference', type: 'text', name: 'thirdwitch' }));
    }
  });

  it('returns an empty query without a registered nick', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66', 'pda');
    await enter(hag, `${room}/thirdwitch`);

    const reply = await discoInfo(hag, room, 'x-roomuser-item');

    if (reply.attr('type') === 'error') {
      expect(stanzaError(reply)?.condition).toBe('feature-not-implemented');
    } else {
      expect(identities(reply)).toEqual([]);
    }
  });
});
