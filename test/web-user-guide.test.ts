import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { NS, x } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import en from '../packages/web/src/i18n/messages/en.js';
import zhCN from '../packages/web/src/i18n/messages/zh-CN.js';
import { keepOnLoopback, launchChromium } from './support/browser.js';
import { TestClient } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';
import { buildWebClient, conversationRow, messagesWithBody, signIn, startWebSocketCutter, unreadOf, watch, type PageProblems, type WebSocketCutter } from './support/web-e2e.js';

// Every step of docs/user-guide.md and docs/user-guide.zh-CN.md, run as a user would in
// Debian's Chromium against a real server: once in English (alice, bob, carol) and once in
// Chinese (张三, 李四, 王五), each in its own browser language. With PARLEY_SCREENSHOTS=1 it
// writes the guides' pictures to docs/screenshots/guide/<step>.<language>.png.
const SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/guide/', import.meta.url));
const PASSWORD = 'user-guide-password';
const STEP_MS = 15_000;
/** Reconnecting waits for the client's backoff (1 s base, doubling, full jitter). */
const RECONNECT_MS = 45_000;
const MAX_FILE_BYTES = 200_000;
const RECORD_MS = 1_500;
/** HTMLMediaElement.readyState once the element has enough data to play through. */
const HAVE_ENOUGH_DATA = 4;
const VIEWPORT = { width: 1100, height: 700 };

interface Person {
  username: string;
  name: string;
  department: string;
  departmentName: string;
  title: string;
}

/** One run of the guide: its language, its people and what they write. */
interface World {
  suffix: 'en' | 'zh-CN';
  browserLocale: string;
  catalogue: typeof en;
  me: Person;
  peer: Person;
  third: Person;
  newcomer: string;
  /** Directory queries that find `peer` and `third`. */
  peerQuery: string;
  thirdQuery: string;
  lines: Record<'chart' | 'hello' | 'reply' | 'draft' | 'meeting' | 'meetingFixed' | 'mistake' | 'ack' | 'groupName' | 'welcome' | 'thirdHello' | 'thirdFollow' | 'searchWord' | 'pdf' | 'plainGroup' | 'lunch' | 'mention' | 'offline' | 'secret' | 'busy' | 'muted', string>;
}

const WORLDS: World[] = [
  {
    suffix: 'en',
    browserLocale: 'en-US',
    catalogue: en,
    me: { username: 'alice', name: 'Alice Martin', department: 'mkt', departmentName: 'Marketing', title: 'Product manager' },
    peer: { username: 'bob', name: 'Bob Jones', department: 'mkt', departmentName: 'Marketing', title: 'Designer' },
    third: { username: 'carol', name: 'Carol White', department: 'fin', departmentName: 'Finance', title: 'Analyst' },
    newcomer: 'dave',
    peerQuery: 'bob',
    thirdQuery: 'carol',
    lines: {
      chart: 'Sign-ups per month',
      hello: 'Hi Bob, are the launch slides ready?',
      reply: 'Almost, I will send them in ten minutes.',
      draft: 'Sure',
      meeting: 'The review is at 3 pm.',
      meetingFixed: 'The review is at 4 pm.',
      mistake: 'Lunch order: two pizzas',
      ack: 'No problem.',
      groupName: 'Launch team',
      welcome: 'Welcome to the launch team!',
      thirdHello: 'Can you send me the budget for March?',
      thirdFollow: 'I need it before Friday.',
      searchWord: 'slides',
      pdf: 'Launch plan.pdf',
      plainGroup: 'The printer on floor 2 works again.',
      lunch: 'Team lunch is at 12:30 today.',
      mention: '@alice can you check the slides before 5?',
      offline: 'Written on the train, sent later',
      secret: 'The new salary figures are in.',
      busy: 'Are you free for a call?',
      muted: 'Anyone for coffee?',
    },
  },
  {
    suffix: 'zh-CN',
    browserLocale: 'zh-CN',
    catalogue: zhCN,
    me: { username: 'zhangsan', name: '张三', department: 'rd', departmentName: '研发部', title: '工程师' },
    peer: { username: 'lisi', name: '李四', department: 'rd', departmentName: '研发部', title: '产品经理' },
    third: { username: 'wangwu', name: '王五', department: 'fin', departmentName: '财务部', title: '会计' },
    newcomer: 'zhaoliu',
    peerQuery: 'ls',
    thirdQuery: 'wangwu',
    lines: {
      chart: '每月注册人数',
      hello: '李四，发布会的幻灯片准备好了吗？',
      reply: '快好了，十分钟后发给你。',
      draft: '好的',
      meeting: '评审会下午三点开始。',
      meetingFixed: '评审会下午四点开始。',
      mistake: '午饭订两份盖饭',
      ack: '没关系。',
      groupName: '发布项目组',
      welcome: '欢迎加入发布项目组！',
      thirdHello: '三月份的预算表能发我一份吗？',
      thirdFollow: '周五之前要用。',
      searchWord: '幻灯片',
      pdf: '发布计划.pdf',
      plainGroup: '二楼的打印机修好了。',
      lunch: '今天十二点半聚餐。',
      mention: '@zhangsan 请在五点前看一下幻灯片',
      offline: '在地铁上写的，稍后发出',
      secret: '新的工资数据出来了。',
      busy: '现在方便通话吗？',
      muted: '有人一起喝咖啡吗？',
    },
  },
];

let buildDir: string;
let server: TestServer;
let browser: Browser;
let cutter: WebSocketCutter;
let origin: string;
const problems: PageProblems = { errors: [] };

beforeAll(async () => {
  buildDir = await buildWebClient();
  server = await startTestServer({ web: { root: buildDir }, upload: { max_file_bytes: MAX_FILE_BYTES } });
  origin = `http://127.0.0.1:${server.httpPort}`;
  for (const world of WORLDS) {
    for (const person of [world.me, world.peer, world.third]) {
      const { username, name, department, departmentName, title } = person;
      await upsertAccount(server.server, { username, password: PASSWORD, displayName: name, department, departmentName, title });
    }
  }
  cutter = await startWebSocketCutter(server.httpPort);
  browser = await launchChromium({ fakeMedia: 'accept' });
  if (process.env.PARLEY_SCREENSHOTS === '1') await mkdir(SCREENSHOTS, { recursive: true });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await cutter?.close();
  await server?.stop();
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

const jidOf = (person: Person | string): string => `${typeof person === 'string' ? person : person.username}@${server.domain}`;

/** Fills `{name}` arguments of a catalogue string. */
function fill(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

/** Opens one device of a user in the browser language of `world`, in the light theme. */
async function openDevice(world: World, url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: world.browserLocale, viewport: VIEWPORT, colorScheme: 'light' });
  const blocked = await keepOnLoopback(context);
  const page = await context.newPage();
  watch(page, problems, blocked);
  await page.goto(url);
  return { context, page };
}

/**
 * Writes the picture of `step`: the page, its top `region` pixels when `region` is a number,
 * or the box around the `region` element with `pad` pixels to spare.
 */
async function shoot(world: World, page: Page, step: string, region?: Locator | number, pad = 12): Promise<void> {
  if (process.env.PARLEY_SCREENSHOTS !== '1') return;
  // Pictures of a whole screen show no hover buttons, while a picture of one element may be about them.
  if (typeof region !== 'object') {
    await page.mouse.move(VIEWPORT.width / 2, 1);
    await page.evaluate(() => {
      const focused = document.activeElement;
      if (focused instanceof HTMLElement && focused.closest('[data-testid="conversation-item"]')) focused.blur();
    });
  }
  await page.waitForTimeout(250);
  const file = path.join(SCREENSHOTS, `${step}.${world.suffix}.png`);
  if (region === undefined) return void (await page.screenshot({ path: file }));
  if (typeof region === 'number') return void (await page.screenshot({ path: file, clip: { x: 0, y: 0, width: VIEWPORT.width, height: region } }));

  const box = await region.boundingBox();
  expect(box, `region of ${step}`).not.toBeNull();
  const left = Math.max(0, box!.x - pad);
  const top = Math.max(0, box!.y - pad);
  const clip = { x: left, y: top, width: Math.min(VIEWPORT.width, box!.x + box!.width + pad) - left, height: Math.min(VIEWPORT.height, box!.y + box!.height + pad) - top };
  await page.screenshot({ path: file, clip });
}

async function send(page: Page, body: string): Promise<void> {
  await page.getByTestId('composer-input').fill(body);
  await page.getByTestId('composer-input').press('Enter');
}

async function openChat(page: Page, base: string, jid: string): Promise<void> {
  await page.goto(`${base}/#/chats/${encodeURIComponent(jid)}`);
  await page.getByTestId('composer-input').waitFor({ timeout: STEP_MS });
}

/** Draws a small chart in the page and returns it as PNG bytes, a picture a user might send. */
async function chartPng(page: Page, label: string): Promise<Buffer> {
  const dataUrl = await page.evaluate((text) => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 400;
    const draw = canvas.getContext('2d')!;
    draw.fillStyle = '#f4f7fb';
    draw.fillRect(0, 0, 640, 400);
    const heights = [120, 180, 150, 260, 310];
    heights.forEach((height, index) => {
      draw.fillStyle = ['#3b82f6', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6'][index]!;
      draw.fillRect(60 + index * 110, 360 - height, 70, height);
    });
    draw.fillStyle = '#1f2937';
    draw.font = '28px sans-serif';
    draw.fillText(text, 60, 50);
    return canvas.toDataURL('image/png');
  }, label);
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

interface ShownNotification {
  title: string;
  body: string;
}

/** Lists the desktop notifications the service worker shows for `conversation`. */
function notificationsOf(page: Page, conversation: string): Promise<ShownNotification[]> {
  return page.evaluate(async (tag) => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications({ tag })).map((item) => ({ title: item.title, body: item.body }));
  }, conversation);
}

function closeNotifications(page: Page, conversation: string): Promise<void> {
  return page.evaluate(async (tag) => {
    const registration = await navigator.serviceWorker.ready;
    for (const item of await registration.getNotifications({ tag })) item.close();
  }, conversation);
}

function onlineLayout(page: Page): Locator {
  return page.locator('[data-testid="main-layout"][data-connection-status="online"]');
}

async function setPresence(page: Page, show: 'dnd' | 'available', world: World, step?: string): Promise<void> {
  await page.getByTestId('presence-button').click();
  await page.getByTestId(`presence-${show}`).check();
  if (step) await shoot(world, page, step, page.getByTestId('presence-picker'), 80);
  await page.getByTestId('presence-apply').click();
  await expect.poll(() => page.getByTestId('own-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe(show);
}

describe.each(WORLDS)('user guide in $suffix', (world) => {
  const t = world.catalogue;
  const { lines } = world;
  let me: Page;
  let meContext: BrowserContext;
  let peer: Page;
  let peerContext: BrowserContext;
  let third: TestClient;
  let room = '';

  afterAll(async () => {
    await third?.close();
    await meContext?.close();
    await peerContext?.close();
  });

  // Each step goes on from where the one before left the pages, so after a failure the
  // later steps would only wait out their timeouts.
  let failedStep: string | undefined;
  beforeEach((context) => {
    if (failedStep !== undefined) context.skip(`"${failedStep}" failed first`);
    context.onTestFailed(() => {
      failedStep ??= context.task.name;
    });
  });

  /** Sends a 1:1 message from the third person, who uses another XMPP client. */
  function thirdSays(body: string): void {
    third.send(x('message', NS.CLIENT, { to: jidOf(world.me), type: 'chat', id: `third-${Date.now()}-${body.length}` }, x('body', NS.CLIENT, {}, body)));
  }

  it('signs up a new account', async () => {
    ({ context: meContext, page: me } = await openDevice(world, `${cutter.origin}/`));
    await me.getByTestId('goto-signup').click();
    await me.getByTestId('signup-username').fill(world.peer.username);
    await me.getByTestId('signup-password').fill(PASSWORD);
    await me.getByTestId('signup-confirm').fill(PASSWORD);
    await me.getByTestId('signup-submit').click();
    await expect.poll(() => me.getByTestId('signup-error').textContent(), { timeout: STEP_MS }).toBe(t.signUp.errorTaken);

    await me.getByTestId('signup-username').fill(world.newcomer);
    await me.getByTestId('signup-password').fill(PASSWORD);
    await me.getByTestId('signup-confirm').fill(PASSWORD);
    expect(await me.getByTestId('signup-address').textContent()).toBe(fill(t.signUp.addressWillBe, { jid: jidOf(world.newcomer) }));
    await shoot(world, me, 'sign-up');

    await me.getByTestId('signup-submit').click();
    await me.getByTestId('signup-done').waitFor({ timeout: STEP_MS });
    expect(await me.getByTestId('signup-done').textContent()).toBe(fill(t.signUp.done, { jid: jidOf(world.newcomer) }));
  });

  it('signs in and stays signed in', async () => {
    await me.getByTestId('goto-signin').click();
    await me.getByTestId('signin-jid').fill(jidOf(world.me));
    await me.getByTestId('signin-password').fill(PASSWORD);
    expect(await me.getByTestId('signin-keep').isChecked()).toBe(true);
    expect(await me.getByTestId('signin-submit').textContent()).toContain(t.signIn.submit);
    await shoot(world, me, 'sign-in');

    await me.getByTestId('signin-password').fill('not-the-password');
    await me.getByTestId('signin-submit').click();
    await expect.poll(() => me.getByTestId('signin-error').textContent(), { timeout: STEP_MS }).toContain(t.signIn.failed);
    await me.getByTestId('signin-password').fill(PASSWORD);
    await me.getByTestId('signin-submit').click();
    await onlineLayout(me).waitFor({ timeout: STEP_MS });

    await me.reload();
    await onlineLayout(me).waitFor({ timeout: STEP_MS });
    expect(await me.getByTestId('signin-form').count()).toBe(0);

    ({ context: peerContext, page: peer } = await openDevice(world, `${origin}/`));
    await signIn(peer, jidOf(world.peer), PASSWORD, STEP_MS);
    third = await TestClient.connect(server, { username: world.third.username, password: PASSWORD, presence: true });
  });

  it('adds colleagues from the directory', async () => {
    await me.getByTestId('nav-contacts').click();
    await me.getByTestId('directory-input').fill(world.thirdQuery);
    const thirdEntry = me.locator(`[data-testid="directory-entry"][data-jid="${jidOf(world.third)}"]`);
    await thirdEntry.waitFor({ timeout: STEP_MS });
    await thirdEntry.getByTestId('directory-add').click();

    await me.getByTestId('directory-input').fill(world.peerQuery);
    const entry = me.locator(`[data-testid="directory-entry"][data-jid="${jidOf(world.peer)}"]`);
    await entry.waitFor({ timeout: STEP_MS });
    expect(await entry.textContent()).toContain(world.peer.name);
    expect(await entry.textContent()).toContain(world.peer.departmentName);
    await shoot(world, me, 'directory', 300);
    await entry.getByTestId('directory-add').click();

    await peer.getByTestId('nav-contacts').click();
    const request = peer.getByTestId('subscription-request');
    await request.waitFor({ timeout: STEP_MS });
    expect(await peer.getByTestId('nav-requests').textContent()).toBe('1');
    await shoot(world, peer, 'contact-request', 320);
    await request.getByTestId('request-approve').click();

    const contact = me.locator(`[data-testid="contact"][data-jid="${jidOf(world.peer)}"]`);
    await expect.poll(() => contact.getByTestId('contact-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');
    expect(await contact.textContent()).toContain(world.peer.name);
    await shoot(world, me, 'contacts', 300);
  });

  it('one-to-one chat shows read marks', async () => {
    await me.locator(`[data-testid="contact"][data-jid="${jidOf(world.peer)}"]`).getByTestId('contact-message').click();
    await me.getByTestId('composer-input').waitFor({ timeout: STEP_MS });
    expect(await me.getByTestId('chat-title').textContent()).toBe(world.peer.name);
    await send(me, lines.hello);
    const own = messagesWithBody(me, lines.hello);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toMatch(/^(sent|delivered)$/);
    expect(await own.getByTestId('message-state').textContent()).toContain(t.state.unread);

    await peer.getByTestId('nav-chats').click();
    await conversationRow(peer, jidOf(world.me)).getByTestId('conversation-open').click();
    await messagesWithBody(peer, lines.hello).waitFor({ timeout: STEP_MS });
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
    expect(await own.getByTestId('message-state').textContent()).toBe(t.state.read);

    await peer.getByTestId('composer-input').pressSequentially(lines.draft);
    await expect.poll(() => me.getByTestId('typing-indicator').textContent(), { timeout: STEP_MS }).toContain(fill(t.chat.typing, { name: world.peer.name }));
    await shoot(world, me, 'typing');
    await peer.getByTestId('composer-input').fill(lines.reply);
    await peer.getByTestId('composer-input').press('Enter');
    await messagesWithBody(me, lines.reply).waitFor({ timeout: STEP_MS });
    const reply = messagesWithBody(peer, lines.reply);
    await expect.poll(() => reply.getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
    await shoot(world, me, 'chat');
  });

  it('corrects the last message', async () => {
    await send(me, lines.meeting);
    await messagesWithBody(peer, lines.meeting).waitFor({ timeout: STEP_MS });
    await me.getByTestId('composer-input').press('ArrowUp');
    await me.getByTestId('editing-banner').waitFor();
    await me.getByTestId('composer-input').fill(lines.meetingFixed);
    await shoot(world, me, 'edit');
    await me.getByTestId('composer-input').press('Enter');

    const edited = messagesWithBody(peer, lines.meetingFixed);
    await edited.waitFor({ timeout: STEP_MS });
    expect(await edited.getByTestId('message-edited').textContent()).toBe(t.chat.edited);
    expect(await messagesWithBody(peer, lines.meeting).count()).toBe(0);
  });

  it('deletes a message for everyone', async () => {
    await send(me, lines.mistake);
    await messagesWithBody(peer, lines.mistake).waitFor({ timeout: STEP_MS });
    const own = messagesWithBody(me, lines.mistake);
    await own.hover();
    await own.getByTestId('message-retract').waitFor();
    await shoot(world, me, 'retract', me.getByTestId('message-list'), 0);

    me.once('dialog', (dialog) => {
      expect(dialog.message()).toBe(t.chat.retractConfirm);
      void dialog.accept();
    });
    await own.getByTestId('message-retract').click();
    await expect.poll(() => peer.getByTestId('message-retracted').count(), { timeout: STEP_MS }).toBe(1);
    expect(await peer.getByTestId('message-retracted').textContent()).toBe(t.chat.retracted);
    expect(await messagesWithBody(peer, lines.mistake).count()).toBe(0);
    // Both chat lists replace the deleted last message's text with the same marker.
    await expect.poll(() => conversationRow(me, jidOf(world.peer)).getByTestId('conversation-preview').textContent(), { timeout: STEP_MS }).toBe(t.previews.deleted);
    await expect.poll(() => conversationRow(peer, jidOf(world.me)).getByTestId('conversation-preview').textContent(), { timeout: STEP_MS }).toBe(t.previews.deleted);
    await shoot(world, peer, 'retracted');
    await send(peer, lines.ack);
    await messagesWithBody(me, lines.ack).waitFor({ timeout: STEP_MS });
  });

  it('creates a group and invites members', async () => {
    await me.getByTestId('nav-chats').click();
    await me.getByTestId('new-group').click();
    await me.getByTestId('group-name').fill(lines.groupName);
    await me.getByTestId('group-invitees').fill(`${jidOf(world.peer)}\n${jidOf(world.third)}`);
    await shoot(world, me, 'new-group');
    await me.getByTestId('group-create').click();
    await expect.poll(() => me.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toMatch(/@conference\./);
    room = (await me.getByTestId('chat-view').getAttribute('data-jid')) ?? '';
    expect(await me.getByTestId('chat-title').textContent()).toBe(lines.groupName);

    const invitation = peer.getByTestId('invitation');
    await invitation.waitFor({ timeout: STEP_MS });
    expect(await invitation.textContent()).toContain(jidOf(world.me));
    await shoot(world, peer, 'invitation');
    await peer.getByTestId('invitation-accept').click();
    await expect.poll(() => peer.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toBe(room);

    await me.getByTestId('chat-members-toggle').click();
    await expect.poll(() => me.getByTestId('member').count(), { timeout: STEP_MS }).toBe(3);
    await shoot(world, me, 'members');
    await me.getByTestId('chat-members-toggle').click();
  });

  it('group message read receipts', async () => {
    await send(me, lines.welcome);
    await messagesWithBody(peer, lines.welcome).waitFor({ timeout: STEP_MS });
    const own = messagesWithBody(me, lines.welcome);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');

    const dialog = me.getByTestId('receipts-dialog');
    await expect
      .poll(
        async () => {
          await own.getByTestId('message-state').click();
          await dialog.getByTestId('receipts-read').waitFor({ timeout: STEP_MS });
          const read = (await dialog.getByTestId('receipts-read').textContent()) ?? '';
          const unread = (await dialog.getByTestId('receipts-unread').textContent()) ?? '';
          const done = read.includes(jidOf(world.peer)) && unread.includes(jidOf(world.third));
          if (!done) await dialog.getByTestId('dialog-close').click();
          return done;
        },
        { timeout: STEP_MS },
      )
      .toBe(true);
    await shoot(world, me, 'group-receipts');
    await dialog.getByTestId('dialog-close').click();
  });

  it('unread counts in the list', async () => {
    await openChat(me, cutter.origin, jidOf(world.peer));
    thirdSays(lines.thirdHello);
    thirdSays(lines.thirdFollow);
    await send(peer, lines.plainGroup);

    await expect.poll(() => unreadOf(me, jidOf(world.third)), { timeout: STEP_MS }).toBe(2);
    await expect.poll(() => unreadOf(me, room), { timeout: STEP_MS }).toBe(1);
    expect(await me.getByTestId('nav-unread').textContent()).toBe('3');
    expect(await conversationRow(me, jidOf(world.third)).getByTestId('conversation-preview').textContent()).toBe(lines.thirdFollow);
    await shoot(world, me, 'conversations');

    await conversationRow(me, room).getByTestId('conversation-open').click();
    await messagesWithBody(me, lines.plainGroup).waitFor({ timeout: STEP_MS });
    await expect.poll(() => unreadOf(me, room), { timeout: STEP_MS }).toBe(0);
    await conversationRow(me, jidOf(world.third)).getByTestId('conversation-open').click();
    await messagesWithBody(me, lines.thirdFollow).waitFor({ timeout: STEP_MS });
    await expect.poll(() => me.getByTestId('nav-unread').count(), { timeout: STEP_MS }).toBe(0);
  });

  it('search jumps to a hit', async () => {
    await me.getByTestId('nav-search').click();
    expect(await me.getByTestId('search-server').isChecked()).toBe(true);
    await me.getByTestId('search-input').fill(world.lines.searchWord);
    const hit = me.getByTestId('search-hit').filter({ hasText: lines.hello });
    await hit.waitFor({ timeout: STEP_MS });
    expect(await me.getByTestId('search-hit').count()).toBe(1);
    await shoot(world, me, 'search', 300);

    await hit.click();
    await expect.poll(() => me.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toBe(jidOf(world.peer));
    const highlighted = me.locator('[data-highlighted="true"]');
    await expect.poll(() => highlighted.getByTestId('message-body').textContent(), { timeout: STEP_MS }).toBe(lines.hello);
    await shoot(world, me, 'search-hit');
  });

  it('image opens in the viewer', async () => {
    await openChat(me, cutter.origin, jidOf(world.peer));
    await openChat(peer, origin, jidOf(world.me));
    await me.getByTestId('attach-input').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: await chartPng(me, lines.chart) });
    const image = peer.getByTestId('attachment-image').last();
    await image.waitFor({ timeout: STEP_MS });
    await expect.poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: STEP_MS }).toBeGreaterThan(0);

    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(48_000, 0x20)]);
    await me.getByTestId('attach-input').setInputFiles({ name: lines.pdf, mimeType: 'application/pdf', buffer: pdf });
    const card = peer.getByTestId('attachment-file').filter({ hasText: lines.pdf });
    await card.waitFor({ timeout: STEP_MS });
    expect(await card.getByTestId('attachment-download').getAttribute('download')).toBe(lines.pdf);
    await shoot(world, me, 'files');

    await me.getByTestId('attachment-image').last().click();
    const viewer = me.getByTestId('image-viewer');
    await expect.poll(() => viewer.getByTestId('viewer-image').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: STEP_MS }).toBe(640);
    expect(await viewer.getAttribute('aria-label')).toBe(fill(t.files.viewer.title, { name: 'chart.png' }));
    await shoot(world, me, 'image-viewer');
    await me.keyboard.press('Escape');
    await expect.poll(() => viewer.evaluate((dialog: HTMLDialogElement) => dialog.open), { timeout: STEP_MS }).toBe(false);
    await me.mouse.move(VIEWPORT.width / 2, 20);
  });

  it('sends dropped and pasted files', async () => {
    const column = me.getByTestId('drop-zone').locator('..');
    const transfer = await me.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(['agenda'], 'agenda.txt', { type: 'text/plain' }));
      return data;
    });
    await column.dispatchEvent('dragenter', { dataTransfer: transfer });
    await me.getByTestId('drop-zone').getByText(t.files.dropHere).waitFor({ timeout: STEP_MS });
    await shoot(world, me, 'drop');
    await column.dispatchEvent('drop', { dataTransfer: transfer });
    await peer.getByTestId('attachment-name').getByText('agenda.txt', { exact: true }).waitFor({ timeout: STEP_MS });

    const png = [...(await chartPng(me, lines.chart))];
    await me.getByTestId('composer-input').evaluate((input, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, png);
    const prefix = t.files.screenshotName.split(' ')[0]!;
    await expect.poll(() => peer.getByTestId('attachment-image').last().locator('img').getAttribute('alt'), { timeout: STEP_MS }).toMatch(new RegExp(`^${prefix} \\d{4}-\\d\\d-\\d\\d \\d\\d\\.\\d\\d\\.png$`));
  });

  it('cancels and retries an upload', async () => {
    // A slow uplink (Chromium's network emulation) keeps the upload running long enough to see and cancel.
    const network = await meContext.newCDPSession(me);
    await network.send('Network.enable');
    await network.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40_000 });
    await me.getByTestId('attach-input').setInputFiles({ name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.alloc(150_000, 'minutes of the review ') });
    const upload = me.getByTestId('upload').filter({ hasText: 'minutes.txt' });
    const percent = upload.getByTestId('upload-percent');
    await expect.poll(async () => Number(/(\d+)%/.exec((await percent.textContent()) ?? '')?.[1] ?? 0), { timeout: STEP_MS }).toBeGreaterThanOrEqual(10);
    expect(await percent.textContent()).toMatch(new RegExp(`^${fill(t.files.uploading, { percent: '\\d+' })}$`));
    await shoot(world, me, 'upload-progress', me.getByTestId('message-list').locator('..'), 0);

    await upload.getByTestId('upload-cancel').click();
    await upload.getByTestId('upload-failure').waitFor({ timeout: STEP_MS });
    expect(await upload.getByTestId('upload-failure').getAttribute('data-failure')).toBe('cancelled');
    await shoot(world, me, 'upload-cancelled', me.getByTestId('message-list').locator('..'), 0);
    await network.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await network.detach();

    await upload.getByTestId('upload-retry').click();
    await upload.waitFor({ state: 'detached', timeout: STEP_MS });
    await peer.getByTestId('attachment-name').getByText('minutes.txt', { exact: true }).waitFor({ timeout: STEP_MS });
  });

  it('refuses a file over the limit', async () => {
    const puts: string[] = [];
    const onRequest = (request: Request): void => {
      if (request.method() === 'PUT') puts.push(request.url());
    };
    me.on('request', onRequest);
    await me.getByTestId('attach-input').setInputFiles({ name: 'video-raw.mov', mimeType: 'video/quicktime', buffer: Buffer.alloc(MAX_FILE_BYTES + 1, 1) });
    const refusal = me.getByTestId('upload-refusal');
    await refusal.waitFor({ timeout: STEP_MS });
    const reason = fill(t.files.failure['too-large'], { limit: '195 KB' });
    expect(await refusal.textContent()).toContain(fill(t.files.refused, { name: 'video-raw.mov', reason }));
    expect(puts).toEqual([]);
    await shoot(world, me, 'too-large', me.getByTestId('message-list').locator('..'), 0);
    await me.getByTestId('upload-refusal-dismiss').click();
    me.off('request', onRequest);
  });

  it('crops and sends a screenshot', async () => {
    await me.getByTestId('capture-screenshot').click();
    const stage = me.getByTestId('crop-stage');
    await stage.waitFor({ timeout: STEP_MS });
    await expect.poll(() => stage.locator('img').evaluate((image: HTMLImageElement) => image.naturalWidth), { timeout: STEP_MS }).toBeGreaterThan(0);
    const box = (await stage.boundingBox())!;
    await me.mouse.move(box.x + box.width * 0.15, box.y + box.height * 0.2);
    await me.mouse.down();
    await me.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.75, { steps: 6 });
    await me.mouse.up();
    expect(await me.getByTestId('crop-size').textContent()).toMatch(new RegExp(fill(t.capture.cropArea, { width: '\\d+', height: '\\d+' })));
    await shoot(world, me, 'crop');

    const before = await peer.getByTestId('attachment-image').count();
    await me.getByTestId('capture-send').click();
    await expect.poll(() => peer.getByTestId('attachment-image').count(), { timeout: STEP_MS }).toBe(before + 1);
  });

  it('records and sends a voice message', async () => {
    await me.getByTestId('capture-voice').click();
    const stop = me.getByTestId('capture-stop-send');
    await expect.poll(() => stop.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await stop.click();
    expect(await me.getByTestId('capture-too-short').textContent()).toBe(t.capture.tooShort);
    await me.getByTestId('capture-retake').click();
    await expect.poll(() => stop.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await me.waitForTimeout(RECORD_MS);
    expect(await me.getByTestId('capture-status').textContent()).toContain(t.capture.recording);
    await shoot(world, me, 'voice-recording');
    await stop.click();

    const voice = peer.getByTestId('attachment-voice');
    await voice.waitFor({ timeout: STEP_MS });
    await expect.poll(() => voice.getByTestId('voice-duration').textContent(), { timeout: STEP_MS }).toMatch(/^0:0[1-3]$/);
    expect(await voice.getByTestId('voice-toggle').getAttribute('aria-label')).toBe(t.files.audio.play);
    await shoot(world, peer, 'voice-message');
  });

  it('explains a blocked microphone', async () => {
    const denying = await launchChromium({ fakeMedia: 'deny' });
    try {
      const context = await denying.newContext({ locale: world.browserLocale, viewport: VIEWPORT, colorScheme: 'light' });
      const blocked = await keepOnLoopback(context);
      const page = await context.newPage();
      watch(page, problems, blocked);
      await page.goto(`${origin}/`);
      await signIn(page, jidOf(world.me), PASSWORD, STEP_MS);
      await openChat(page, origin, jidOf(world.peer));
      await page.getByTestId('capture-voice').click();
      await expect.poll(() => page.getByTestId('capture-error').textContent(), { timeout: STEP_MS }).toBe(t.capture.micDenied);
      await shoot(world, page, 'microphone-blocked', page.getByTestId('voice-dialog'), 16);
      await page.getByTestId('capture-cancel').click();
    } finally {
      await denying.close();
    }
  });

  it('records and sends a video message', async () => {
    await me.getByTestId('capture-video').click();
    const record = me.getByTestId('capture-record');
    await expect.poll(() => record.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await expect.poll(() => me.getByTestId('capture-preview').evaluate((video: HTMLVideoElement) => video.videoWidth), { timeout: STEP_MS }).toBeGreaterThan(0);
    await record.click();
    await me.getByTestId('capture-stop').waitFor({ timeout: STEP_MS });
    await me.waitForTimeout(RECORD_MS);
    await shoot(world, me, 'video-recording');
    await me.getByTestId('capture-stop').click();

    const review = me.getByTestId('capture-review');
    await expect.poll(() => review.evaluate((video: HTMLVideoElement) => video.readyState), { timeout: 5_000 }).toBe(HAVE_ENOUGH_DATA);
    await shoot(world, me, 'video-review');
    await me.getByTestId('capture-send').click();
    const video = peer.locator('[data-testid="attachment"][data-kind="video"]');
    await video.waitFor({ timeout: STEP_MS });
    await expect.poll(() => video.getByTestId('attachment-video').evaluate((element: HTMLVideoElement) => element.videoWidth), { timeout: STEP_MS }).toBeGreaterThan(0);
  });

  it('asks for notification permission in settings', async () => {
    await me.getByTestId('nav-settings').click();
    expect(await me.getByTestId('settings-notifications').isChecked()).toBe(true);
    const allow = me.getByTestId('notifications-allow');
    await allow.waitFor({ timeout: STEP_MS });
    expect(await allow.textContent()).toBe(t.desktop.permissionAsk);
    await shoot(world, me, 'notifications-permission', me.locator('fieldset').filter({ has: allow }), 8);

    // Headless Chromium shows no permission prompt, so granting here replaces the user's click on "Allow".
    await meContext.grantPermissions(['notifications'], { origin: cutter.origin });
    await allow.click();
    await allow.waitFor({ state: 'detached', timeout: STEP_MS });
    expect(await me.evaluate(() => Notification.permission)).toBe('granted');
    await me.getByTestId('settings-group-mentions-only').check();
    await shoot(world, me, 'settings');
  });

  it('notifies and counts in the title', async () => {
    // The client alerts at most 5 times a minute and the steps above used that up, so a reload starts a new count.
    await me.reload();
    await onlineLayout(me).waitFor({ timeout: STEP_MS });
    await openChat(me, cutter.origin, jidOf(world.peer));
    thirdSays(lines.thirdHello);
    await expect.poll(() => notificationsOf(me, jidOf(world.third)), { timeout: STEP_MS }).toEqual([{ title: world.third.name, body: lines.thirdHello }]);
    await expect.poll(() => me.title(), { timeout: STEP_MS }).toBe('(1) Parley');

    await conversationRow(me, jidOf(world.third)).getByTestId('conversation-open').click();
    await expect.poll(() => me.title(), { timeout: STEP_MS }).toBe('Parley');
    await expect.poll(() => notificationsOf(me, jidOf(world.third)), { timeout: STEP_MS }).toEqual([]);
  });

  it('notifies about group mentions only', async () => {
    await openChat(me, cutter.origin, jidOf(world.peer));
    await openChat(peer, origin, room);
    await send(peer, lines.lunch);
    await expect.poll(() => conversationRow(me, room).getByTestId('conversation-preview').textContent(), { timeout: STEP_MS }).toContain(lines.lunch);
    expect(await notificationsOf(me, room)).toEqual([]);

    await send(peer, lines.mention);
    const title = fill(t.desktop.mentionTitle, { room: lines.groupName });
    await expect.poll(() => notificationsOf(me, room), { timeout: STEP_MS }).toEqual([{ title, body: `${world.peer.username}: ${lines.mention}` }]);
    await conversationRow(me, room).getByTestId('conversation-open').click();
    await messagesWithBody(me, lines.mention).waitFor({ timeout: STEP_MS });
    await me.mouse.move(VIEWPORT.width / 2, VIEWPORT.height / 2);
    await shoot(world, me, 'mention');
  });

  it('quiet when muted or busy', async () => {
    await openChat(me, cutter.origin, jidOf(world.peer));
    const row = conversationRow(me, jidOf(world.third));
    await me.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await row.hover();
    await shoot(world, me, 'mute', me.getByTestId('conversation-list'), 0);
    await row.getByTestId('conversation-mute').click();
    await expect.poll(() => row.getAttribute('data-muted'), { timeout: STEP_MS }).toBe('true');
    thirdSays(lines.muted);
    await expect.poll(() => row.getByTestId('conversation-preview').textContent(), { timeout: STEP_MS }).toBe(lines.muted);
    expect(await notificationsOf(me, jidOf(world.third))).toEqual([]);
    expect(await me.title()).toBe('Parley');
    await row.hover();
    await row.getByTestId('conversation-mute').click();
    await expect.poll(() => row.getAttribute('data-muted'), { timeout: STEP_MS }).toBe('false');

    await setPresence(me, 'dnd', world, 'do-not-disturb');
    thirdSays(lines.busy);
    await expect.poll(() => row.getByTestId('conversation-preview').textContent(), { timeout: STEP_MS }).toBe(lines.busy);
    expect(await notificationsOf(me, jidOf(world.third))).toEqual([]);
    await setPresence(me, 'available', world);

    const group = conversationRow(me, room);
    await group.hover();
    await group.getByTestId('conversation-pin').click({ timeout: STEP_MS });
    await expect.poll(() => group.getAttribute('data-pinned'), { timeout: STEP_MS }).toBe('true');
    expect(await me.getByTestId('conversation-item').first().getAttribute('data-jid')).toBe(room);
  });

  it('hides text in notifications', async () => {
    await me.getByTestId('nav-settings').click();
    await me.getByTestId('settings-notification-preview').uncheck();
    await closeNotifications(me, jidOf(world.third));
    thirdSays(lines.secret);
    await expect.poll(() => notificationsOf(me, jidOf(world.third)), { timeout: STEP_MS }).toEqual([{ title: world.third.name, body: t.desktop.hiddenMessage }]);
    await me.getByTestId('settings-notification-preview').check();
  });

  it('meets the browser install criteria', async () => {
    const session = await meContext.newCDPSession(me);
    try {
      const manifest = (await session.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
      expect(manifest.url).toBe(`${cutter.origin}/manifest.webmanifest`);
      expect(manifest.errors).toEqual([]);
      const installability = (await session.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
      // Playwright's contexts are incognito, where Chromium never installs apps. Nothing else may fail.
      expect(installability.installabilityErrors.map((error) => error.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
    } finally {
      await session.detach();
    }
  });

  it('opens offline and sends later', async () => {
    await openChat(me, cutter.origin, jidOf(world.peer));
    await expect.poll(() => me.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? ''), { timeout: STEP_MS }).toBe(`${cutter.origin}/sw.js`);
    cutter.cut();
    await meContext.setOffline(true);
    await me.reload();
    await me.getByTestId('main-layout').waitFor({ timeout: STEP_MS });
    await messagesWithBody(me, lines.reply).waitFor({ timeout: STEP_MS });
    await expect.poll(() => me.getByTestId('connection-status').isVisible(), { timeout: STEP_MS }).toBe(true);

    await send(me, lines.offline);
    const own = messagesWithBody(me, lines.offline);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toBe('sending');
    expect(await own.getByTestId('message-state').textContent()).toBe(t.state.sending);
    await shoot(world, me, 'offline');

    await meContext.setOffline(false);
    cutter.restore();
    await expect.poll(() => onlineLayout(me).count(), { timeout: RECONNECT_MS }).toBe(1);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    await openChat(peer, origin, jidOf(world.me));
    await messagesWithBody(peer, lines.offline).waitFor({ timeout: STEP_MS });
  }, RECONNECT_MS + 2 * STEP_MS);

  it('switches language and theme', async () => {
    await me.getByTestId('nav-settings').click();
    const other = world.suffix === 'en' ? 'zh-CN' : 'en';
    await me.getByTestId('language-select').selectOption(other);
    await expect.poll(() => me.getByTestId('nav-settings').textContent()).toContain(other === 'en' ? en.nav.settings : zhCN.nav.settings);
    await me.getByTestId('language-select').selectOption(world.suffix);
    await expect.poll(() => me.getByTestId('nav-settings').textContent()).toContain(t.nav.settings);

    await me.getByTestId('theme-dark').check();
    expect(await me.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await me.getByTestId('theme-light').check();
    expect(await me.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  });

  it('signs out and forgets keys', async () => {
    expect(await me.getByTestId('nav-signout').textContent()).toContain(t.nav.signOut);
    await me.getByTestId('nav-signout').click();
    await me.getByTestId('signin-form').waitFor({ timeout: STEP_MS });
    await me.reload();
    await me.getByTestId('signin-form').waitFor({ timeout: STEP_MS });
    await me.waitForTimeout(500);
    expect(await me.getByTestId('main-layout').count()).toBe(0);
  });
});

describe('user guide pages', () => {
  it('had no page errors', () => {
    // Chromium logs refused WebSockets and offline requests as console errors. Only those are expected.
    const offlineNoise = /WebSocket connection to .* failed|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/;
    expect(problems.errors.filter((error) => !offlineNoise.test(error))).toEqual([]);
  });
});
