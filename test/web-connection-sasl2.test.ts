import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { JID } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { XmppAuthError, XmppClient, type FastToken, type UserAgent, type WebSocketConstructor, type XmppClientOptions } from '../packages/web/src/xmpp/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { withTimeout } from './support/raw.js';

// The web client's SASL2 path in Node against a real server: Bind 2 with inline stream
// management, FAST tokens (use, count, rotation, fallback, revocation), inline resumption,
// and the fallback to RFC 6120 SASL when the server does not offer SASL2.
const PASSWORD = 'web-sasl2-password';
const WS = WebSocket as unknown as WebSocketConstructor;

let server: TestServer;
const clients: XmppClient[] = [];
let scramLookups = 0;

beforeAll(async () => {
  server = await startTestServer();
  for (const user of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.createAccount(user, PASSWORD);
  countScramLookups(server);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

afterAll(async () => {
  await server?.stop();
});

/** Counts the SCRAM credential lookups of `target`, one per SCRAM exchange, by wrapping the real repository method. */
function countScramLookups(target: TestServer): void {
  const accounts = target.server.storage.accounts;
  const original = accounts.getCredential.bind(accounts);
  accounts.getCredential = (...args: Parameters<typeof original>) => {
    scramLookups++;
    return original(...args);
  };
}

function agent(): UserAgent {
  return { id: crypto.randomUUID(), software: 'Parley Web', device: 'vitest' };
}

interface TokenLog {
  saved: (FastToken | undefined)[];
}

function client(target: TestServer, user: string, options: Partial<XmppClientOptions> = {}, log: TokenLog = { saved: [] }): XmppClient {
  const created = new XmppClient({
    service: `ws://127.0.0.1:${target.httpPort}/xmpp-websocket`,
    jid: `${user}@${target.domain}`,
    webSocket: WS,
    reconnect: { baseMs: 100, capMs: 400 },
    saveFastToken: async (token) => void log.saved.push(token),
    ...options,
  });
  clients.push(created);
  return created;
}

interface TokenRow {
  id: string;
  client: string;
  slot: string;
  last_count: number;
}

async function tokenRows(target: TestServer, user: string): Promise<TokenRow[]> {
  const result = await sql<TokenRow>`SELECT id, client, slot, last_count FROM fast_tokens WHERE username = ${user} ORDER BY created_at`.execute(target.server.storage.db);
  return result.rows;
}

function clientHash(userAgent: UserAgent): string {
  return createHash('sha256').update(userAgent.id, 'utf8').digest('hex');
}

function sessionOf(target: TestServer, jid: string) {
  const full = JID.parse(jid);
  return target.server.sessions.resources(full.bare()).find((session) => session.jid!.toString() === jid);
}

describe('SASL2 login', () => {
  it('binds with Bind 2, enables stream management and receives a token', async () => {
    const userAgent = agent();
    const log: TokenLog = { saved: [] };
    const alice = client(server, 'alice', { password: PASSWORD, loadUserAgent: async () => userAgent }, log);
    await withTimeout(alice.start(), 10_000, 'login');

    expect(alice.jid).toMatch(new RegExp(`^alice@${server.domain}/web/[\\w-]{12}$`));
    const session = sessionOf(server, alice.jid);
    expect(session).toBeDefined();
    expect(session!.sm?.resumeId).toBeTruthy();

    expect(alice.fastToken?.count).toBe(0);
    expect(log.saved).toEqual([alice.fastToken]);
    const rows = await tokenRows(server, 'alice');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.client).toBe(clientHash(userAgent));
    expect(rows[0]!.slot).toBe('new');
  });

  it('logs in with the token and no SCRAM exchange, counting up', async () => {
    const userAgent = agent();
    const first = client(server, 'bob', { password: PASSWORD, loadUserAgent: async () => userAgent });
    await first.start();
    const token = first.fastToken!;
    const keys = first.scramKeys!;
    await first.stop();

    const log: TokenLog = { saved: [] };
    const lookupsBefore = scramLookups;
    const second = client(server, 'bob', { keys, fastToken: token, loadUserAgent: async () => userAgent }, log);
    await withTimeout(second.start(), 10_000, 'token login');

    expect(scramLookups).toBe(lookupsBefore);
    expect(log.saved[0]).toEqual({ ...token, count: 1 });
    expect(second.fastToken).toEqual({ ...token, count: 1 });
    const [row] = await tokenRows(server, 'bob');
    expect(row!.slot).toBe('current');
    expect(row!.last_count).toBe(1);
    // The resource stays the same for the same user agent and tag.
    expect(second.jid).toBe(first.jid);
  });

  it('falls back to the stored keys when the token is rejected', async () => {
    const userAgent = agent();
    const first = client(server, 'carol', { password: PASSWORD, loadUserAgent: async () => userAgent });
    await first.start();
    const keys = first.scramKeys!;
    await first.stop();

    const log: TokenLog = { saved: [] };
    const forged: FastToken = { ...first.fastToken!, token: 'not-the-token' };
    const lookupsBefore = scramLookups;
    const second = client(server, 'carol', { keys, fastToken: forged, loadUserAgent: async () => userAgent }, log);
    await withTimeout(second.start(), 10_000, 'fallback login');

    expect(scramLookups).toBe(lookupsBefore + 1);
    expect(second.fastToken).toBeDefined();
    expect(second.fastToken!.token).not.toBe(forged.token);
    expect(second.fastToken!.token).not.toBe(first.fastToken!.token);
    expect(log.saved).toEqual([{ ...forged, count: 1 }, second.fastToken]);
  });

  it('reports auth-failed and drops the token after a password change', async () => {
    const userAgent = agent();
    const first = client(server, 'dave', { password: PASSWORD, loadUserAgent: async () => userAgent });
    await first.start();
    const { fastToken, scramKeys } = first;
    await first.stop();
    await upsertAccount(server.server, { username: 'dave', password: 'a-new-password-for-dave' });
    expect(await tokenRows(server, 'dave')).toEqual([]);

    const log: TokenLog = { saved: [] };
    const second = client(server, 'dave', { keys: scramKeys, fastToken, loadUserAgent: async () => userAgent }, log);
    const failure = await withTimeout(second.start(), 10_000, 'rejected login').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(XmppAuthError);
    expect(second.status).toBe('auth-failed');
    expect(second.fastToken).toBeUndefined();
    expect(log.saved.at(-1)).toBeUndefined();
  });

  it('resumes inside SASL2 after the socket dies', async () => {
    const erin = client(server, 'erin', { password: PASSWORD });
    await erin.start();
    const jid = erin.jid;
    const online = new Promise<{ resumed: boolean }>((resolve) => erin.on('online', resolve));
    const lookupsBefore = scramLookups;

    erin.dropConnection();
    expect(await withTimeout(online, 10_000, 'resumption')).toEqual({ resumed: true });
    expect(erin.jid).toBe(jid);
    expect(server.server.sessions.resources(JID.parse(`erin@${server.domain}`))).toHaveLength(1);
    // The reconnection used the token issued at the first login.
    expect(scramLookups).toBe(lookupsBefore);
  });

  it('revokes the token on the server when signing out', async () => {
    const userAgent = agent();
    const log: TokenLog = { saved: [] };
    const alice = client(server, 'alice', { password: PASSWORD, loadUserAgent: async () => userAgent }, log);
    await alice.start();
    const hash = clientHash(userAgent);
    expect((await tokenRows(server, 'alice')).filter((row) => row.client === hash)).toHaveLength(1);

    await alice.stop();
    await withTimeout(alice.revokeFastToken(), 10_000, 'revocation');
    expect((await tokenRows(server, 'alice')).filter((row) => row.client === hash)).toEqual([]);
    expect(alice.fastToken).toBeUndefined();
    expect(log.saved.at(-1)).toBeUndefined();
  });
});

describe('token rotation', () => {
  let rotating: TestServer;

  beforeAll(async () => {
    // Rotating at any time before expiry makes every token login bring a new token.
    rotating = await startTestServer({ auth: { fast_rotate_before_s: 1_209_600 } });
    await rotating.createAccount('alice', PASSWORD);
  });

  afterAll(async () => {
    await rotating?.stop();
  });

  it('takes the rotated token and restarts its count', async () => {
    const userAgent = agent();
    const first = client(rotating, 'alice', { password: PASSWORD, loadUserAgent: async () => userAgent });
    await first.start();
    const issued = first.fastToken!;
    await first.stop();

    const log: TokenLog = { saved: [] };
    const second = client(rotating, 'alice', { keys: first.scramKeys, fastToken: issued, loadUserAgent: async () => userAgent }, log);
    await second.start();
    const rotated = second.fastToken!;
    expect(rotated.token).not.toBe(issued.token);
    expect(rotated.count).toBe(0);
    expect(log.saved).toEqual([{ ...issued, count: 1 }, rotated]);
    await second.stop();

    const third = client(rotating, 'alice', { fastToken: rotated, loadUserAgent: async () => userAgent });
    await withTimeout(third.start(), 10_000, 'login with the rotated token');
    expect(third.status).toBe('online');
  });
});

describe('without SASL2', () => {
  let legacy: TestServer;

  beforeAll(async () => {
    legacy = await startTestServer({ auth: { sasl2: false } });
    await legacy.createAccount('alice', PASSWORD);
  });

  afterAll(async () => {
    await legacy?.stop();
  });

  it('logs in with SASL, binds the requested resource, and gets no token', async () => {
    const alice = client(legacy, 'alice', { password: PASSWORD, resource: 'web' });
    await withTimeout(alice.start(), 10_000, 'legacy login');
    expect(alice.jid).toBe(`alice@${legacy.domain}/web`);
    expect(alice.fastToken).toBeUndefined();
    expect(sessionOf(legacy, alice.jid)?.sm?.resumeId).toBeTruthy();
  });
});
