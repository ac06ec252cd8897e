import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { JID } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { startTestServer, type TestServer } from './support/server.js';
import { openDevice, signIn, type PageProblems, useWebE2e } from './support/web-e2e.js';

// SASL2, Bind 2 and FAST in Debian's Chromium: signing in sets the session up in one SASL2
// step and stores a FAST token (never the password); a reload signs in with the token and
// no SCRAM exchange; a password change revokes the token, so the next reload asks to sign in
// again; signing out deletes the token on the server; a server without SASL2 still works.
const PASSWORD = 'web-sasl2-e2e-password';
const STEP_MS = 15_000;

const problems: PageProblems = { errors: [] };
/** SCRAM credential lookups on `server`: one per SCRAM exchange, none for a token login. */
let scramLookups = 0;

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

beforeAll(async () => {
  const accounts = env.server.server.storage.accounts;
  const original = accounts.getCredential.bind(accounts);
  accounts.getCredential = (...args: Parameters<typeof original>) => {
    scramLookups++;
    return original(...args);
  };
}, 150_000);

const jidOf = (user: string, target = env.server): string => `${user}@${target.domain}`;

function onlineLayout(page: Page) {
  return page.locator('[data-testid="main-layout"][data-connection-status="online"]');
}

interface StoredLogin {
  fields: string[];
  fast?: { mechanism: string; token: string; expiry: number; count: number };
  deviceId?: string;
}

/** Reads the account's row and the device id straight from the IndexedDB database `parley-credentials`. */
function storedLogin(page: Page, jid: string): Promise<StoredLogin | undefined> {
  return page.evaluate(
    (key) =>
      new Promise<StoredLogin | undefined>((resolve, reject) => {
        const request = indexedDB.open('parley-credentials');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          const stores = ['accounts', 'device'].filter((name) => db.objectStoreNames.contains(name));
          if (stores.length < 2) {
            db.close();
            return resolve(undefined);
          }
          const transaction = db.transaction(stores, 'readonly');
          const account = transaction.objectStore('accounts').get(key);
          const device = transaction.objectStore('device').get('user-agent');
          transaction.onerror = () => reject(transaction.error);
          transaction.oncomplete = () => {
            db.close();
            const row = account.result as (Record<string, unknown> & StoredLogin) | undefined;
            const deviceId = (device.result as { id?: string } | undefined)?.id;
            resolve(row ? { fields: Object.keys(row).sort(), fast: row.fast, deviceId } : undefined);
          };
        };
      }),
    jid,
  );
}

interface TokenRow {
  client: string;
  slot: string;
  last_count: number;
}

async function tokenRows(target: TestServer, user: string): Promise<TokenRow[]> {
  const result = await sql<TokenRow>`SELECT client, slot, last_count FROM fast_tokens WHERE username = ${user} ORDER BY created_at`.execute(target.server.storage.db);
  return result.rows;
}

function sessionsOf(target: TestServer, user: string) {
  return target.server.sessions.resources(JID.parse(jidOf(user, target)));
}

/** The resource the server's Bind 2 gives tag 'web' of this user agent: `web/` and 12 characters of a hash. */
function bind2Resource(user: string, userAgentId: string): string {
  return `web/${createHash('sha256').update(`${user}\0web\0${userAgentId}`).digest('base64url').slice(0, 12)}`;
}

describe('web client signs in with SASL2 and FAST', () => {
  let context: BrowserContext;
  let alice: Page;
  let deviceId: string;

  it('sets the session up with Bind 2 and stores a FAST token, never the password', async () => {
    const lookupsBefore = scramLookups;
    ({ context, page: alice } = await openDevice(env.browser, `http://127.0.0.1:${env.server.httpPort}/`, problems));
    await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);
    expect(scramLookups).toBe(lookupsBefore + 1);

    await expect.poll(async () => (await storedLogin(alice, jidOf('alice')))?.fields, { timeout: STEP_MS }).toEqual(['fast', 'jid', 'keys', 'savedAt', 'server']);
    const stored = (await storedLogin(alice, jidOf('alice')))!;
    expect(stored.fast).toMatchObject({ mechanism: 'HT-SHA-256-NONE', count: 0 });
    expect(stored.fast!.expiry).toBeGreaterThan(Date.now());
    expect(stored.deviceId).toMatch(/^[0-9a-f-]{36}$/);
    deviceId = stored.deviceId!;
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);

    // The server bound the resource Bind 2 derives from the device's user-agent id, with stream management on.
    const [session] = sessionsOf(env.server, 'alice');
    expect(session?.jid!.resource).toBe(bind2Resource('alice', deviceId));
    expect(session?.sm?.resumeId).toBeTruthy();
    const rows = await tokenRows(env.server, 'alice');
    expect(rows).toEqual([{ client: createHash('sha256').update(deviceId).digest('hex'), slot: 'new', last_count: 0 }]);
  });

  it('signs in again after a reload with the token and no SCRAM exchange', async () => {
    const lookupsBefore = scramLookups;
    await alice.reload();
    await onlineLayout(alice).waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('signin-form').count()).toBe(0);

    expect(scramLookups).toBe(lookupsBefore);
    // The server moved the token to 'current' and accepted count 1.
    expect(await tokenRows(env.server, 'alice')).toEqual([{ client: createHash('sha256').update(deviceId).digest('hex'), slot: 'current', last_count: 1 }]);
    await expect.poll(async () => (await storedLogin(alice, jidOf('alice')))?.fast?.count, { timeout: STEP_MS }).toBe(1);
    await expect.poll(() => sessionsOf(env.server, 'alice').map((session) => session.jid!.resource), { timeout: STEP_MS }).toEqual([bind2Resource('alice', deviceId)]);
  });

  it('asks to sign in again once a password change revoked the token', async () => {
    await upsertAccount(env.server.server, { username: 'alice', password: 'a-new-password-for-alice' });
    expect(await tokenRows(env.server, 'alice')).toEqual([]);

    await alice.reload();
    await alice.getByTestId('signin-error').waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('signin-error').textContent()).toContain('Please sign in again');
    expect(await storedLogin(alice, jidOf('alice'))).toBeUndefined();
    await alice.screenshot({ path: '/tmp/web-sasl2-sign-in-again.png' });
    await context.close();
  });

  it('revokes the token on the server when signing out', async () => {
    const { context: other, page } = await openDevice(env.browser, `http://127.0.0.1:${env.server.httpPort}/`, problems);
    await signIn(page, jidOf('bob'), PASSWORD, STEP_MS);
    await expect.poll(async () => (await storedLogin(page, jidOf('bob')))?.fast?.token, { timeout: STEP_MS }).toBeTruthy();
    expect(await tokenRows(env.server, 'bob')).toHaveLength(1);

    await page.getByTestId('nav-signout').click();
    await page.getByTestId('signin-form').waitFor({ timeout: STEP_MS });
    await expect.poll(() => tokenRows(env.server, 'bob'), { timeout: STEP_MS }).toEqual([]);
    expect(await storedLogin(page, jidOf('bob'))).toBeUndefined();
    await other.close();
  });

  it('had no page errors', () => {
    expect(problems.errors).toEqual([]);
  });
});

describe('web client on a server without SASL2', () => {
  let legacy: TestServer;

  beforeAll(async () => {
    legacy = await startTestServer({ web: { root: env.buildDir }, auth: { sasl2: false } });
    await legacy.createAccount('carol', PASSWORD);
  });

  afterAll(async () => {
    await legacy?.stop();
  });

  it('signs in with SASL and binding, and stores keys without a token', async () => {
    const legacyProblems: PageProblems = { errors: [] };
    const { context, page } = await openDevice(env.browser, `http://127.0.0.1:${legacy.httpPort}/`, legacyProblems);
    await signIn(page, jidOf('carol', legacy), PASSWORD, STEP_MS);

    await expect.poll(async () => (await storedLogin(page, jidOf('carol', legacy)))?.fields, { timeout: STEP_MS }).toEqual(['jid', 'keys', 'savedAt', 'server']);
    const [session] = sessionsOf(legacy, 'carol');
    expect(session?.sm?.resumeId).toBeTruthy();
    expect(await tokenRows(legacy, 'carol')).toEqual([]);

    await page.reload();
    await onlineLayout(page).waitFor({ timeout: STEP_MS });
    expect(legacyProblems.errors).toEqual([]);
    await context.close();
  });
});
