import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CONVERSE_DIST, conversePage, keepOnLoopback, launchChromium, serveStatic, type StaticSite } from './support/browser.js';
import { webSocketUrl } from './support/client.js';
import { SlixmppPeer, type PeerEvent } from './support/python-peer.js';
import { startTestServer, type TestServer } from './support/server.js';

const CONVERSE = { user: 'converse-user', password: 'converse-password' };
const PEER = { user: 'converse-peer', password: 'peer-password' };
const ROOM_LOCALPART = 'lounge';
const CONVERSE_NICK = 'conversejs';
const PEER_NICK = 'slixpeer';
/** How long one step may wait for the browser or the peer. */
const STEP_MS = 15_000;
/** Converse's ROOMSTATUS.ENTERED: the occupant is in the room. */
const ROOM_ENTERED = 5;

/** The part of Converse's API these tests call, as the page's plugin exposes it. */
interface ConverseApi {
  chats: { open(jid: string): Promise<unknown> };
  rooms: { open(jid: string, attrs: { nick: string }): Promise<unknown> };
  user: { jid(): string | null };
}
/** Converse's room model, of which the tests read the connection status and the occupants. */
interface ConverseRoom {
  session: { get(key: string): unknown };
  occupants: { pluck(key: string): unknown[] };
}
interface PageGlobals {
  parleyTest?: { api?: ConverseApi; state?: { chatboxes?: { get(jid: string): ConverseRoom | undefined } }; events: string[] };
}

let server: TestServer;
let site: StaticSite | undefined;
let peer: SlixmppPeer | undefined;
let browser: Browser | undefined;
let page: Page;
let blocked: string[] = [];
const pageErrors: string[] = [];
let converseJid: string;
let peerJid: string;
let roomJid: string;
/** Set once Converse is in the room, so that the later room tests fail at once without it. */
let roomEntered = false;

beforeAll(async () => {
  server = await startTestServer();
  await server.createAccount(CONVERSE.user, CONVERSE.password);
  await server.createAccount(PEER.user, PEER.password);
  converseJid = `${CONVERSE.user}@${server.domain}`;
  peerJid = `${PEER.user}@${server.domain}`;
  roomJid = `${ROOM_LOCALPART}@conference.${server.domain}`;

  peer = await SlixmppPeer.start({ host: '127.0.0.1', port: server.c2sPort, domain: server.domain, ...PEER });

  const settings = {
    websocket_url: webSocketUrl(server),
    jid: converseJid,
    password: CONVERSE.password,
    auto_login: true,
    // No host-meta lookup at the account's domain, because the test sets the WebSocket URL.
    discover_connection_methods: false,
    assets_path: '/dist/',
    i18n: 'en',
    loglevel: process.env.PARLEY_TEST_LOG ? 'debug' : 'error',
    play_sounds: false,
    show_desktop_notifications: false,
    use_system_emojis: true,
    // The fullscreen view's footer shows sponsor logos from the web; the overlayed view has none.
    view_mode: 'overlayed',
  };
  site = await serveStatic({ '/': conversePage(settings) }, { '/dist/': CONVERSE_DIST });

  browser = await launchChromium();
  const context = await browser.newContext({ serviceWorkers: 'block' });
  blocked = await keepOnLoopback(context);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${site.origin}/`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await peer?.stop();
  await site?.close();
  await server?.stop();
});

function converseEvents(): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).parleyTest?.events ?? []);
}

/** Types `text` into the message field of the chat or room element and sends it with Enter. */
async function typeMessage(chatSelector: string, text: string): Promise<void> {
  const textarea = page.locator(`${chatSelector} textarea.chat-textarea`);
  await textarea.fill(text, { timeout: STEP_MS });
  await textarea.press('Enter');
}

function messageFrom(from: (jid: string) => boolean, type: string, body: string): (event: PeerEvent) => boolean {
  return (event) => event.event === 'message' && event.type === type && event.body === body && from(String(event.from));
}

describe('Converse.js in Chromium', () => {
  it('logs in over WebSocket', async () => {
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).parleyTest?.events.includes('connected'), undefined, {
      timeout: STEP_MS,
    });
    const jid = await page.evaluate(() => (globalThis as unknown as PageGlobals).parleyTest?.api?.user.jid() ?? null);
    expect(jid?.split('/')[0], `page errors: ${pageErrors.join('; ')}`).toBe(converseJid);
    expect(await converseEvents()).toContain('connected');
  });

  it('sends a chat message to slixmpp', async () => {
    await page.evaluate((jid) => (globalThis as unknown as PageGlobals).parleyTest?.api?.chats.open(jid).then(() => undefined), peerJid);
    await typeMessage(`converse-chat[jid="${peerJid}"]`, 'Hello from Converse.js');

    const received = await peer!.waitFor(
      messageFrom((from) => from.startsWith(`${converseJid}/`), 'chat', 'Hello from Converse.js'),
      'chat message from Converse',
      STEP_MS,
    );
    expect(received.body).toBe('Hello from Converse.js');
  });

  it('shows the chat reply', async () => {
    peer!.send({ op: 'send', to: converseJid, type: 'chat', body: 'Hello back from slixmpp' });
    const shown = page.locator(`converse-chat[jid="${peerJid}"] .chat-msg[data-from="${peer!.jid}"]`, { hasText: 'Hello back from slixmpp' });
    await shown.waitFor({ timeout: STEP_MS });
    expect(await shown.count()).toBe(1);
  });

  it('joins the room slixmpp created', async () => {
    peer!.send({ op: 'join', room: roomJid, nick: PEER_NICK });
    const joined = await peer!.waitFor((e) => (e.event === 'joined' && e.room === roomJid) || (e.event === 'failed' && e.op === 'join'), 'join', STEP_MS);
    expect(joined, String(joined.error)).toMatchObject({ event: 'joined', created: true });

    await page.evaluate(
      ([jid, nick]) => (globalThis as unknown as PageGlobals).parleyTest?.api?.rooms.open(jid, { nick }).then(() => undefined),
      [roomJid, CONVERSE_NICK] as const,
    );
    await page.waitForFunction(
      ([jid, entered]) => {
        const room = (globalThis as unknown as PageGlobals).parleyTest?.state?.chatboxes?.get(jid);
        return room?.session.get('connection_status') === entered;
      },
      [roomJid, ROOM_ENTERED] as const,
      { timeout: STEP_MS },
    );
    await peer!.waitFor((e) => e.event === 'presence' && e.from === `${roomJid}/${CONVERSE_NICK}` && e.type === 'available', "Converse's room presence", STEP_MS);
    roomEntered = true;

    // Converse may add its own occupant a moment after it enters.
    const expectedNicks = [CONVERSE_NICK, PEER_NICK].sort().join(',');
    const nicks = await page
      .waitForFunction(
        ([jid, expected]) => {
          const room = (globalThis as unknown as PageGlobals).parleyTest?.state?.chatboxes?.get(jid);
          const nicks = (room?.occupants.pluck('nick') ?? []).map(String).sort().join(',');
          return nicks === expected ? nicks : undefined;
        },
        [roomJid, expectedNicks] as const,
        { timeout: STEP_MS },
      )
      .then((handle) => handle.jsonValue());
    expect(nicks).toBe(expectedNicks);
  });

  it('sends a groupchat message to slixmpp', async () => {
    expect(roomEntered, 'Converse did not enter the room').toBe(true);
    await typeMessage(`converse-muc[jid="${roomJid}"]`, 'Hello room from Converse.js');
    const received = await peer!.waitFor(
      messageFrom((from) => from === `${roomJid}/${CONVERSE_NICK}`, 'groupchat', 'Hello room from Converse.js'),
      'groupchat message from Converse',
      STEP_MS,
    );
    expect(received.stanza_id, 'the stanza id the room adds').toEqual(expect.any(String));
  });

  it('shows the groupchat reply', async () => {
    expect(roomEntered, 'Converse did not enter the room').toBe(true);
    peer!.send({ op: 'send', to: roomJid, type: 'groupchat', body: 'Hello Converse.js from the room' });
    const shown = page.locator(`converse-muc[jid="${roomJid}"] .chat-msg[data-from="${roomJid}/${PEER_NICK}"]`, {
      hasText: 'Hello Converse.js from the room',
    });
    await shown.waitFor({ timeout: STEP_MS });
    expect(await shown.count()).toBe(1);
  });

  it('causes no error messages', () => {
    expect(peer!.events.filter((e) => e.event === 'message' && e.type === 'error')).toEqual([]);
  });

  it('keeps requests on 127.0.0.1', () => {
    // The route aborted requests to other hosts, and a failure lists the URLs Converse requested.
    expect(blocked).toEqual([]);
  });
});
