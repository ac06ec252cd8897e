import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, serialize, x } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, openClientStream } from './support/client.js';
import { startAdminApi, type AdminApi } from './support/admin-api.js';
import { connectComponent } from './support/component.js';

const NS_SEARCH = 'jabber:iq:search';
const DIRECTORY = 'directory.example.test';
const BRIDGE = 'bridge.example.test';
const BRIDGE_SECRET = 'bridge secret';

interface Row {
  jid: string;
  fields: Record<string, string>;
}

interface Results {
  rows: Row[];
  count: number | undefined;
  first: string | undefined;
  firstIndex: string | undefined;
  last: string | undefined;
}

function searchIq(fields: Record<string, string>, rsm?: Element): Element {
  const formFields = [x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS_SEARCH))];
  for (const [name, value] of Object.entries(fields)) formFields.push(x('field', NS.DATA_FORMS, { var: name }, x('value', NS.DATA_FORMS, {}, value)));
  const form = x('x', NS.DATA_FORMS, { type: 'submit' }, ...formFields);
  return x('iq', NS.CLIENT, { type: 'set', to: DIRECTORY }, x('query', NS_SEARCH, {}, form, rsm));
}

function rsmSet(children: Record<string, string>): Element {
  return x('set', NS.RSM, {}, ...Object.entries(children).map(([name, value]) => x(name, NS.RSM, {}, value)));
}

function readResults(reply: Element): Results {
  expect(reply.attr('type'), reply.toString()).toBe('result');
  const query = reply.getChild('query', NS_SEARCH)!;
  const form = query.getChild('x', NS.DATA_FORMS)!;
  const rows = form.getChildren('item', NS.DATA_FORMS).map((item) => {
    const fields: Record<string, string> = {};
    for (const field of item.getChildren('field', NS.DATA_FORMS)) fields[field.attr('var')!] = field.getChildText('value', NS.DATA_FORMS) ?? '';
    return { jid: fields.jid!, fields };
  });
  const set = query.getChild('set', NS.RSM);
  const count = set?.getChildText('count', NS.RSM);
  return {
    rows,
    count: count === undefined ? undefined : Number(count),
    first: set?.getChildText('first', NS.RSM),
    firstIndex: set?.getChild('first', NS.RSM)?.attr('index'),
    last: set?.getChildText('last', NS.RSM),
  };
}

function errorCondition(reply: Element): string | undefined {
  return reply.getChild('error')?.elements().find((child) => child.ns === NS.STANZAS)?.name;
}

describe('organisation directory (XEP-0055)', () => {
  let server: TestServer;
  let alice: TestClient;

  async function search(fields: Record<string, string>, rsm?: Element): Promise<Results> {
    return readResults(await alice.iq(searchIq(fields, rsm)));
  }

  async function jidsFor(fields: Record<string, string>): Promise<string[]> {
    return (await search(fields)).rows.map((row) => row.jid).sort();
  }

  beforeAll(async () => {
    server = await startTestServer({
      directory: { max_results: 10 },
      listen: { component_port: 0 },
      components: [{ domain: BRIDGE, secret: BRIDGE_SECRET }],
    });
    const ctx = server.server;
    await server.createAccount('alice', 'alice-password');
    await upsertAccount(ctx, { username: 'zhangsan', password: 'pw-zhangsan', displayName: '张三', email: 'zhangsan@corp.example', title: '工程师', department: 'rd', departmentName: '研发部' });
    await upsertAccount(ctx, { username: 'lisi', password: 'pw-lisi', displayName: '李四', email: 'li.si@corp.example', title: '经理', department: 'rd' });
    await upsertAccount(ctx, { username: 'jack', password: 'pw-jack', displayName: 'Jack 王', title: 'Sales Manager', department: 'sales', departmentName: 'Sales' });
    await upsertAccount(ctx, { username: 'zengle', password: 'pw-zengle', displayName: '曾乐', department: 'sales' });
    for (let i = 1; i <= 12; i++) {
      const username = `bulk${String(i).padStart(2, '0')}`;
      await upsertAccount(ctx, { username, password: `pw-${username}`, displayName: `Bulk User ${i}`, department: 'bulk', departmentName: 'Bulk Department' });
    }
    alice = await TestClient.connect(server, { username: 'alice', password: 'alice-password', presence: true });
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  it('is listed in disco#items with identity directory/user', async () => {
    const items = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_ITEMS)));
    const jids = items.getChild('query', NS.DISCO_ITEMS)!.getChildren('item').map((item) => item.attr('jid'));
    expect(jids).toContain(DIRECTORY);

    const info = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: DIRECTORY }, x('query', NS.DISCO_INFO)));
    const query = info.getChild('query', NS.DISCO_INFO)!;
    const identity = query.getChild('identity', NS.DISCO_INFO)!;
    expect([identity.attr('category'), identity.attr('type')]).toEqual(['directory', 'user']);
    expect(query.getChildren('feature', NS.DISCO_INFO).map((feature) => feature.attr('var'))).toContain(NS_SEARCH);
  });

  it('returns the search form', async () => {
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: DIRECTORY }, x('query', NS_SEARCH)));
    const form = reply.getChild('query', NS_SEARCH)!.getChild('x', NS.DATA_FORMS)!;
    expect(form.attr('type')).toBe('form');
    const vars = form.getChildren('field', NS.DATA_FORMS).map((field) => field.attr('var'));
    expect(vars).toEqual(['FORM_TYPE', 'text', 'department', 'title']);
  });

  it('finds a Chinese name by characters, full pinyin and initials', async () => {
    for (const text of ['张三', '张', 'zhangsan', 'zhang san', 'ZhangS', 'zs']) {
      expect(await jidsFor({ text }), text).toEqual(['zhangsan@example.test']);
    }
    expect(await jidsFor({ text: 'ls' })).toEqual(['lisi@example.test']);
  });

  it('finds polyphonic and mixed-script names', async () => {
    expect(await jidsFor({ text: 'zengle' })).toEqual(['zengle@example.test']);
    expect(await jidsFor({ text: 'cengle' })).toEqual(['zengle@example.test']);
    expect(await jidsFor({ text: 'jack wang' })).toEqual(['jack@example.test']);
    expect(await jidsFor({ text: 'jackwang' })).toEqual(['jack@example.test']);
  });

  it('finds by username and email', async () => {
    expect(await jidsFor({ text: 'li.si@corp' })).toEqual(['lisi@example.test']);
    expect(await jidsFor({ text: 'lisi' })).toEqual(['lisi@example.test']);
  });

  it('finds by department and title', async () => {
    expect(await jidsFor({ department: '研发' })).toEqual(['lisi@example.test', 'zhangsan@example.test']);
    expect(await jidsFor({ department: 'yanfa' })).toEqual(['lisi@example.test', 'zhangsan@example.test']);
    expect(await jidsFor({ title: 'gcs' })).toEqual(['zhangsan@example.test']);
    expect(await jidsFor({ title: 'manager', department: 'sales' })).toEqual(['jack@example.test']);
    expect(await jidsFor({ text: 'zhang', department: 'sales' })).toEqual([]);
  });

  it('shows the profile fields of a result', async () => {
    const { rows } = await search({ text: 'zhangsan' });
    expect(rows[0]!.fields).toEqual({ jid: 'zhangsan@example.test', name: '张三', department: '研发部', title: '工程师', email: 'zhangsan@corp.example' });
  });

  it('pages results with RSM and caps the page size', async () => {
    const first = await search({ department: 'bulk' }, rsmSet({ max: '5' }));
    expect(first.rows.map((row) => row.jid)).toEqual(['bulk01', 'bulk02', 'bulk03', 'bulk04', 'bulk05'].map((name) => `${name}@example.test`));
    expect(first.count).toBe(12);
    expect(first.firstIndex).toBe('0');

    const second = await search({ department: 'bulk' }, rsmSet({ max: '5', after: first.last! }));
    expect(second.rows[0]!.jid).toBe('bulk06@example.test');
    expect(second.firstIndex).toBe('5');

    const last = await search({ department: 'bulk' }, rsmSet({ max: '5', before: '' }));
    expect(last.rows.map((row) => row.jid)).toEqual(['bulk08', 'bulk09', 'bulk10', 'bulk11', 'bulk12'].map((name) => `${name}@example.test`));
    expect(last.firstIndex).toBe('7');

    const capped = await search({ department: 'bulk' }, rsmSet({ max: '100' }));
    expect(capped.rows).toHaveLength(10);
    expect(capped.count).toBe(12);
  });

  it('answers the fixed fields of XEP-0055 section 2', async () => {
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: DIRECTORY }, x('query', NS_SEARCH, {}, x('nick', NS_SEARCH, {}, 'zhangsan'))));
    const items = reply.getChild('query', NS_SEARCH)!.getChildren('item', NS_SEARCH);
    expect(items.map((item) => item.attr('jid'))).toEqual(['zhangsan@example.test']);
    expect(items[0]!.getChildText('nick', NS_SEARCH)).toBe('张三');
  });

  it('follows profile updates, department renames and disabled accounts', async () => {
    const ctx = server.server;
    await upsertAccount(ctx, { username: 'lisi', title: 'Architect' });
    expect(await jidsFor({ title: 'architect' })).toEqual(['lisi@example.test']);

    const rd = (await ctx.storage.orgGroups.get(server.domain, 'rd'))!;
    await ctx.storage.orgGroups.upsert({ ...rd, name: '平台部', updatedAt: Date.now() });
    await ctx.hooks.fire('org/group-changed', { host: server.domain, id: 'rd', changed: ['name'] });
    expect(await jidsFor({ department: 'pingtai' })).toEqual(['lisi@example.test', 'zhangsan@example.test']);
    expect(await jidsFor({ department: 'yanfa' })).toEqual([]);

    // The account service renames a department as a side effect of an account update and
    // fires 'org/group-changed', so the directory rewrites the entries of every member.
    await upsertAccount(ctx, { username: 'zhangsan', title: 'Senior Engineer', department: 'rd', departmentName: 'R&D' });
    expect((await search({ text: 'lisi' })).rows[0]!.fields.department).toBe('R&D');

    await upsertAccount(ctx, { username: 'zengle', disabled: true });
    expect(await jidsFor({ text: 'zengle' })).toEqual([]);
  });

  it('rejects malformed requests', async () => {
    const form = x('x', NS.DATA_FORMS, { type: 'form' });
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: DIRECTORY }, x('query', NS_SEARCH, {}, form)));
    expect(errorCondition(reply)).toBe('bad-request');

    const badMax = await alice.iq(searchIq({ text: 'a' }, rsmSet({ max: '-1' })));
    expect(errorCondition(badMax)).toBe('bad-request');

    const foreign = await alice.iq(searchIq({ text: 'a' }, rsmSet({ after: 'someone@elsewhere.example' })));
    expect(errorCondition(foreign)).toBe('item-not-found');
  });

  it('refuses searches before authentication', async () => {
    const { connection } = await openClientStream(server, 'plain');
    try {
      connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'early', to: DIRECTORY }, x('query', NS_SEARCH, {}, x('nick', NS_SEARCH, {}, 'zs'))));
      expect(await connection.streamError(3000)).toBe('not-authorized');
      expect(connection.receivedText()).not.toContain('zhangsan@example.test');
    } finally {
      connection.destroy();
    }
  });

  it('refuses searches from other domains', async () => {
    const component = await connectComponent(server.server.addresses.component!, BRIDGE, BRIDGE_SECRET);
    try {
      const request = searchIq({ text: 'zs' });
      request.attrs.from = `eve@${BRIDGE}`;
      request.attrs.id = 'remote-1';
      component.write(serialize(request, NS.COMPONENT));
      const reply = await component.next((el) => el.name === 'iq' && el.attr('id') === 'remote-1', 3000);
      expect(reply.attr('type')).toBe('error');
      expect(errorCondition(reply)).toBe('forbidden');
    } finally {
      component.destroy();
    }
  });
});

describe('directory configuration', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      directory: { fields: ['name'], access: 'anyone' },
      listen: { component_port: 0 },
      components: [{ domain: BRIDGE, secret: BRIDGE_SECRET }],
    });
    await upsertAccount(server.server, { username: 'zhangsan', password: 'pw-zhangsan', displayName: '张三', email: 'zhangsan@corp.example', title: '工程师' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('shows only the configured fields, to anyone when configured', async () => {
    const component = await connectComponent(server.server.addresses.component!, BRIDGE, BRIDGE_SECRET);
    try {
      const request = searchIq({ text: 'zs' });
      request.attrs.from = `eve@${BRIDGE}`;
      request.attrs.id = 'remote-2';
      component.write(serialize(request, NS.COMPONENT));
      const results = readResults(await component.next((el) => el.name === 'iq' && el.attr('id') === 'remote-2', 3000));
      expect(results.rows.map((row) => row.fields)).toEqual([{ jid: 'zhangsan@example.test', name: '张三' }]);
    } finally {
      component.destroy();
    }
  });
});

describe('department renames through the admin API', () => {
  let api: AdminApi;
  let viewer: TestClient;
  const renames: { id: string; changed: string[] }[] = [];

  async function jidsFor(fields: Record<string, string>): Promise<string[]> {
    return readResults(await viewer.iq(searchIq(fields))).rows.map((row) => row.jid).sort();
  }

  beforeAll(async () => {
    api = await startAdminApi();
    api.server.server.hooks.on('org/group-changed', ({ id, changed }) => {
      renames.push({ id, changed });
      return false;
    });
    for (const [username, name] of [['wangwu', '王五'], ['zhaoliu', '赵六']]) {
      const created = await api.request('POST', '/accounts', { username, external_id: `HR-${username}`, display_name: name, department: 'fin', department_name: '财务部' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    await api.server.createAccount('viewer', 'viewer-password');
    viewer = await TestClient.connect(api.server, { username: 'viewer', password: 'viewer-password' });
  });

  afterAll(async () => {
    await viewer?.close();
    await api?.stop();
  });

  it('finds members by the name PATCH gave', async () => {
    expect(await jidsFor({ department: 'caiwu' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);

    const patched = await api.request('PATCH', '/departments/fin', { name: '审计部' });
    expect(patched.status).toBe(200);
    expect(await jidsFor({ department: '审计' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);
    expect(await jidsFor({ department: 'shenji' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);
    expect(await jidsFor({ department: 'sjb' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);
    expect(await jidsFor({ department: 'caiwu' })).toEqual([]);
  });

  it('renames through an upsert with one event', async () => {
    renames.length = 0;
    const upserted = await api.request('PUT', '/accounts:upsert', { external_id: 'HR-wangwu', department: 'fin', department_name: '风控部' });
    expect(upserted.status).toBe(200);
    expect(upserted.body.changed).toEqual([]);
    expect(renames).toEqual([{ id: 'fin', changed: ['name'] }]);
    expect((await api.request('GET', '/departments/fin')).body.name).toBe('风控部');

    expect(await jidsFor({ department: 'fengkong' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);
    expect(await jidsFor({ department: 'fkb' })).toEqual(['wangwu@example.test', 'zhaoliu@example.test']);
    expect(await jidsFor({ department: 'shenji' })).toEqual([]);

    renames.length = 0;
    expect((await api.request('PUT', '/accounts:upsert', { external_id: 'HR-zhaoliu', department: 'fin', department_name: '风控部' })).body.changed).toEqual([]);
    expect(renames).toEqual([]);
  });
});

