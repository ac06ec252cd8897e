import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'secret-pw';
const FULLTEXT = `{${NS.FULLTEXT}}fulltext`;

const MESSAGES_TO_BOB = [
  'The meeting moves to Friday',
  '今天的会议改到三点',
  'Lunch at noon?',
  '明天开会吗',
  'Meeting notes: 会议记录 attached',
  'こんにちは、コーヒーはいかが',
];
const MESSAGES_TO_CAROL = ['Another meeting for carol', '会议室已订好'];

let nextQuery = 1;

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to }, x('body', NS.CLIENT, {}, body));
}

function form(fields: Record<string, string>): Element {
  const el = x('x', NS.DATA_FORMS, { type: 'submit' }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS.MAM)));
  for (const [name, value] of Object.entries(fields)) el.append(x('field', NS.DATA_FORMS, { var: name }, x('value', NS.DATA_FORMS, {}, value)));
  return el;
}

/** Searches the client's archive and returns the bodies found, in archive order, and the `<fin/>`. */
async function search(client: TestClient, fields: Record<string, string>, max?: number): Promise<{ bodies: string[]; fin?: Element }> {
  const queryid = `s${nextQuery++}`;
  const iqId = `iq-${queryid}`;
  const query = x('query', NS.MAM, { queryid }, form(fields));
  if (max !== undefined) query.append(x('set', NS.RSM, {}, x('max', NS.RSM, {}, String(max))));
  client.send(x('iq', NS.CLIENT, { type: 'set', id: iqId }, query));
  const bodies: string[] = [];
  for (;;) {
    const el = await client.next((candidate) => candidate.getChild('result', NS.MAM)?.attr('queryid') === queryid || candidate.attr('id') === iqId, 5000);
    if (el.name === 'iq') return { bodies, fin: el.getChild('fin', NS.MAM) };
    const message = el.getChild('result', NS.MAM)?.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
    bodies.push(message?.getChildText('body', NS.CLIENT) ?? '');
  }
}

describe('archive search', () => {
  let server: TestServer;
  let alice: TestClient;
  let bobBare: string;

  beforeAll(async () => {
    server = await startTestServer();
    for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
    bobBare = `bob@${server.domain}`;
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    for (const body of MESSAGES_TO_BOB) alice.send(chat(bobBare, body));
    for (const body of MESSAGES_TO_CAROL) alice.send(chat(`carol@${server.domain}`, body));
    alice.send(x('message', NS.CLIENT, { type: 'chat', to: bobBare, id: 'typo' }, x('body', NS.CLIENT, {}, 'see you tomorow')));
    alice.send(x('message', NS.CLIENT, { type: 'chat', to: bobBare, id: 'fixed' }, x('body', NS.CLIENT, {}, 'see you tomorrow'), x('replace', NS.CORRECT, { id: 'typo' })));
  });

  afterAll(async () => {
    await alice.close();
    await server.stop();
  });

  it('finds an English word in any case', async () => {
    expect((await search(alice, { [FULLTEXT]: 'MEETING' })).bodies).toEqual([MESSAGES_TO_BOB[0], MESSAGES_TO_BOB[4], MESSAGES_TO_CAROL[0]]);
  });

  it('requires every English word', async () => {
    expect((await search(alice, { [FULLTEXT]: 'meeting friday' })).bodies).toEqual([MESSAGES_TO_BOB[0]]);
  });

  it('finds a two-character Chinese word inside a sentence', async () => {
    expect((await search(alice, { [FULLTEXT]: '会议' })).bodies).toEqual([MESSAGES_TO_BOB[1], MESSAGES_TO_BOB[4], MESSAGES_TO_CAROL[1]]);
  });

  it('finds a longer Chinese phrase', async () => {
    expect((await search(alice, { [FULLTEXT]: '改到三点' })).bodies).toEqual([MESSAGES_TO_BOB[1]]);
  });

  it('does not match characters out of order', async () => {
    expect((await search(alice, { [FULLTEXT]: '议会' })).bodies).toEqual([]);
  });

  it('finds a single Chinese character', async () => {
    expect((await search(alice, { [FULLTEXT]: '开' })).bodies).toEqual([MESSAGES_TO_BOB[3]]);
  });

  it('finds Japanese kana', async () => {
    expect((await search(alice, { [FULLTEXT]: 'コーヒー' })).bodies).toEqual([MESSAGES_TO_BOB[5]]);
  });

  it('finds mixed English and Chinese', async () => {
    expect((await search(alice, { [FULLTEXT]: 'notes 会议' })).bodies).toEqual([MESSAGES_TO_BOB[4]]);
  });

  it('combines with a with filter', async () => {
    expect((await search(alice, { [FULLTEXT]: '会议', with: bobBare })).bodies).toEqual([MESSAGES_TO_BOB[1], MESSAGES_TO_BOB[4]]);
  });

  it('pages through results', async () => {
    const { fin } = await search(alice, { [FULLTEXT]: '会议' }, 2);
    expect(fin?.getChild('set', NS.RSM)?.getChildText('count', NS.RSM)).toBe('3');
  });

  it('finds nothing for an unknown word', async () => {
    expect((await search(alice, { [FULLTEXT]: 'zebra' })).bodies).toEqual([]);
  });

  it('ignores a blank search', async () => {
    // The typo and its correction are two more messages.
    expect((await search(alice, { [FULLTEXT]: '  ' })).bodies).toHaveLength(MESSAGES_TO_BOB.length + MESSAGES_TO_CAROL.length + 2);
  });

  it('finds the corrected text once', async () => {
    expect((await search(alice, { [FULLTEXT]: 'tomorrow' })).bodies).toEqual(['see you tomorrow']);
  });

  it('forgets the text before a correction', async () => {
    expect((await search(alice, { [FULLTEXT]: 'tomorow' })).bodies).toEqual([]);
  });
});
