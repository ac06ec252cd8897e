import { createHash } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ApiProblem } from '../admin/problem.js';
import { deriveCredentials, verifyPassword } from '../auth/credentials.js';
import { parseLegacyHash, verifyLegacyHash } from '../auth/legacy-hash.js';
import { validateConfig } from '../config.js';
import type { ServerEvents } from '../core/events.js';
import { Hooks } from '../core/hooks.js';
import { createLogger } from '../log.js';
import { openStorage, type Storage } from '../storage/index.js';
import { deleteAccount, disableAccount, enableAccount, resetPassword, upsertAccount, type ProvisioningContext } from './accounts-service.js';

const HOST = 'example.test';
/** A bcrypt hash of "U*U" from OpenBSD's test vectors. */
const BCRYPT = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
/** A salted SHA-256 hash in the `sha256$salt$hex` form, of a password other than BCRYPT's. */
const OTHER_HASH = { password: 'changed-in-hr', hash: `sha256$pepper$${createHash('sha256').update('pepper').update('changed-in-hr').digest('hex')}` };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of the image')]);

let storage: Storage;
let context: ProvisioningContext;
let events: { name: string; event: unknown }[];

beforeEach(async () => {
  storage = await openStorage({ driver: 'sqlite', path: ':memory:' });
  const hooks = new Hooks<ServerEvents>(createLogger('silent'));
  events = [];
  for (const name of ['account/created', 'account/updated', 'account/disabled', 'account/enabled', 'account/deleted'] as const) {
    hooks.on(name, (event) => {
      events.push({ name, event });
      return false;
    });
  }
  context = { config: validateConfig({ domain: HOST, auth: { scram_iterations: 4096 } }), storage, hooks };
});

afterEach(async () => {
  await storage.close();
});

/** Replaces the legacy hash with SCRAM keys through the repository call the PLAIN login upgrade makes. */
async function upgradeLikeLogin(username: string, password: string): Promise<void> {
  const hash = await storage.legacyHashes.get(HOST, username);
  expect(hash).not.toBeNull();
  const credentials = await deriveCredentials(password, { iterations: 4096 });
  expect(await storage.legacyHashes.replaceWithCredentials(HOST, username, hash, credentials)).toBe(true);
}

async function passwordMatches(username: string, password: string): Promise<boolean> {
  const stored = await storage.accounts.getCredential(HOST, username, 'SHA-256');
  return stored !== null && (await verifyPassword(password, stored));
}

async function problemOf(promise: Promise<unknown>): Promise<ApiProblem> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ApiProblem);
  return error as ApiProblem;
}

describe('upsertAccount', () => {
  it('creates an account with profile, department and password', async () => {
    const result = await upsertAccount(context, { username: 'Alice', externalId: 'E1', displayName: ' Alice A ', email: 'a@EXAMPLE.org', department: 'sales', departmentName: 'Sales', password: 'secret-1' });
    expect(result).toEqual({ username: 'alice', created: true, changed: [] });

    const profile = await storage.profiles.get(HOST, 'alice');
    expect(profile?.externalId).toBe('E1');
    expect(profile?.displayName).toBe('Alice A');
    expect(profile?.email).toBe('a@example.org');
    expect(profile?.department).toBe('sales');
    expect((await storage.orgGroups.get(HOST, 'sales'))?.name).toBe('Sales');
    expect(await storage.orgGroups.members(HOST, 'sales')).toEqual(['alice']);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-256')).not.toBeNull();
    expect(events).toEqual([{ name: 'account/created', event: { host: HOST, username: 'alice' } }]);
  });

  it('changes nothing and fires nothing for the same input', async () => {
    const input = { externalId: 'E1', username: 'bob', displayName: 'Bob', password: 'secret-1', avatar: { type: 'image/png', data: PNG } };
    await upsertAccount(context, input);
    events = [];
    const again = await upsertAccount(context, input);
    expect(again).toEqual({ username: 'bob', created: false, changed: [] });
    expect(events).toEqual([]);
  });

  it('reports changed fields and fires one update', async () => {
    await upsertAccount(context, { externalId: 'E1', username: 'bob', displayName: 'Bob' });
    events = [];
    const result = await upsertAccount(context, { externalId: 'E1', displayName: 'Robert', title: 'Engineer', password: 'secret-2' });
    expect(result.changed).toEqual(['password', 'display_name', 'title']);
    expect(events).toEqual([{ name: 'account/updated', event: { host: HOST, username: 'bob', changed: ['display_name', 'title'] } }]);
  });

  it('derives the username from the external id', async () => {
    const result = await upsertAccount(context, { externalId: 'Zhang.San' });
    expect(result.username).toBe('zhang.san');
  });

  it('requires a username when the external id is not one', async () => {
    const problem = await problemOf(upsertAccount(context, { externalId: 'a b@c' }));
    expect(problem.extra.field).toBe('username');
  });

  it.each([
    [{ username: 'a@b' }, 'username'],
    [{ username: 'ok', email: 'not-an-address' }, 'email'],
    [{ username: 'ok', phone: 'call me' }, 'phone'],
    [{ username: 'ok', displayName: 'x'.repeat(257) }, 'displayName'],
    [{ username: 'ok', password: '123' }, 'password'],
    [{ username: 'ok', passwordHash: '$9$unknown' }, 'passwordHash'],
    [{ username: 'ok', password: 'secret-1', passwordHash: BCRYPT }, 'passwordHash'],
    [{ username: 'ok', avatar: { type: 'image/bmp', data: PNG } }, 'avatar'],
    [{ username: 'ok', avatar: { type: 'image/jpeg', data: PNG } }, 'avatar'],
    [{ username: 'ok', avatar: { type: 'image/png', data: Buffer.concat([PNG, Buffer.alloc(256 * 1024)]) } }, 'avatar'],
    [{ username: 'ok', groups: ['missing'] }, 'groups/0'],
  ])('rejects %j naming the field', async (input, field) => {
    const problem = await problemOf(upsertAccount(context, input));
    expect(problem.status).toBe(400);
    expect(problem.extra.field).toBe(field);
    expect(await storage.accounts.exists(HOST, 'ok')).toBe(false);
    expect(events).toEqual([]);
  });

  it('stores a legacy hash and replaces it with a password', async () => {
    await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT });
    expect(await storage.legacyHashes.get(HOST, 'carol')).toBe(BCRYPT);
    expect(await storage.accounts.getCredential(HOST, 'carol', 'SHA-256')).toBeNull();

    expect((await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT })).changed).toEqual([]);
    await resetPassword(context, 'carol', 'secret-1');
    expect(await storage.legacyHashes.get(HOST, 'carol')).toBeNull();
    expect(await storage.accounts.getCredential(HOST, 'carol', 'SHA-256')).not.toBeNull();
  });

  it('keeps the SCRAM keys of an upgraded account for the same hash', async () => {
    await upsertAccount(context, { username: 'carol', externalId: 'E3', passwordHash: BCRYPT });
    await upgradeLikeLogin('carol', 'U*U');

    events = [];
    expect((await upsertAccount(context, { externalId: 'E3', passwordHash: BCRYPT })).changed).toEqual([]);
    expect(await storage.legacyHashes.get(HOST, 'carol')).toBeNull();
    expect(await passwordMatches('carol', 'U*U')).toBe(true);
    expect(events).toEqual([]);
  });

  it('keeps a reset password for the same hash', async () => {
    await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT });
    await resetPassword(context, 'carol', 'secret-1');
    expect((await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT })).changed).toEqual([]);
    expect(await passwordMatches('carol', 'secret-1')).toBe(true);
  });

  it('replaces the SCRAM keys of an upgraded account for another hash', async () => {
    await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT });
    await upgradeLikeLogin('carol', 'U*U');

    const changed = await upsertAccount(context, { username: 'carol', passwordHash: OTHER_HASH.hash });
    expect(changed.changed).toEqual(['password']);
    expect(await storage.accounts.getCredential(HOST, 'carol', 'SHA-256')).toBeNull();
    const stored = await storage.legacyHashes.get(HOST, 'carol');
    expect(stored).toBe(parseLegacyHash(OTHER_HASH.hash).encoded);
    expect(await verifyLegacyHash(stored!, OTHER_HASH.password)).toBe(true);
    expect(await verifyLegacyHash(stored!, 'U*U')).toBe(false);

    expect((await upsertAccount(context, { username: 'carol', passwordHash: OTHER_HASH.hash })).changed).toEqual([]);
    expect((await upsertAccount(context, { username: 'carol', passwordHash: BCRYPT })).changed).toEqual(['password']);
  });

  it('refuses an external id of another account', async () => {
    await upsertAccount(context, { username: 'alice', externalId: 'E1' });
    await upsertAccount(context, { username: 'bob' });
    const problem = await problemOf(upsertAccount(context, { username: 'bob', externalId: 'E1' }, { match: 'username' }));
    expect(problem.status).toBe(409);
    expect(problem.extra.field).toBe('externalId');
  });

  it('keeps the username of a linked external id', async () => {
    await upsertAccount(context, { username: 'alice', externalId: 'E1' });
    const problem = await problemOf(upsertAccount(context, { username: 'other', externalId: 'E1' }));
    expect(problem.extra.field).toBe('username');
  });

  it('rejects a group id as department', async () => {
    await storage.orgGroups.upsert({ host: HOST, id: 'team', kind: 'group', name: 'Team', parentId: null, sharedRoster: false, createdAt: 1, updatedAt: 1 });
    const problem = await problemOf(upsertAccount(context, { username: 'dave', department: 'team' }));
    expect(problem.extra.field).toBe('department');
    expect(await storage.accounts.exists(HOST, 'dave')).toBe(false);
  });

  it('replaces group memberships', async () => {
    for (const id of ['g1', 'g2']) await storage.orgGroups.upsert({ host: HOST, id, kind: 'group', name: id, parentId: null, sharedRoster: false, createdAt: 1, updatedAt: 1 });
    await upsertAccount(context, { username: 'erin', groups: ['g1'], department: 'd1' });
    const result = await upsertAccount(context, { username: 'erin', groups: ['g2'] });
    expect(result.changed).toEqual(['groups']);
    expect((await storage.orgGroups.groupsOf(HOST, 'erin')).map((group) => group.id)).toEqual(['d1', 'g2']);
  });

  it('honours create and update options', async () => {
    expect((await problemOf(upsertAccount(context, { username: 'frank' }, { create: false }))).status).toBe(404);
    await upsertAccount(context, { username: 'frank' });
    expect((await problemOf(upsertAccount(context, { username: 'frank' }, { update: false }))).status).toBe(409);
  });
});

describe('account state changes', () => {
  it('disables and enables with events', async () => {
    await upsertAccount(context, { username: 'gina' });
    events = [];
    expect(await disableAccount(context, 'gina')).toBe(true);
    expect(await disableAccount(context, 'gina')).toBe(false);
    expect((await storage.accounts.get(HOST, 'gina'))?.disabled).toBe(true);
    expect(await enableAccount(context, 'gina')).toBe(true);
    expect(events.map((entry) => entry.name)).toEqual(['account/disabled', 'account/enabled']);
  });

  it('deletes an account and its profile', async () => {
    await upsertAccount(context, { username: 'hank', externalId: 'E9', department: 'd1' });
    await deleteAccount(context, 'hank');
    expect(await storage.accounts.exists(HOST, 'hank')).toBe(false);
    expect(await storage.profiles.getByExternalId(HOST, 'E9')).toBeNull();
    expect(events.at(-1)?.name).toBe('account/deleted');
    expect((await problemOf(deleteAccount(context, 'hank'))).status).toBe(404);
  });
});
