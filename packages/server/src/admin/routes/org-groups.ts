import { randomBytes } from 'node:crypto';

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import { MAX_GROUP_ID_CHARS, optionalText, validGroupId, validUsername } from '../../provisioning/account-input.js';
import { upsertAccount } from '../../provisioning/accounts-service.js';
import { OrgGroupInUseError, type OrgGroup } from '../../storage/org-groups.js';
import type { OrgGroupKind } from '../../storage/schema.js';
import { ApiProblem, invalidField, notFound } from '../problem.js';
import { NoContent, Page, PageQuery, Timestamp, nextCursor, timestamp } from '../schemas.js';

const GroupSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  parent_id: Type.Union([Type.String(), Type.Null()]),
  shared_roster: Type.Boolean({ description: 'Whether members see each other in their rosters without subscribing' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const CreateBody = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GROUP_ID_CHARS, description: 'Id from the organisation\'s system; generated when absent' })),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    parent_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: MAX_GROUP_ID_CHARS }), Type.Null()])),
    shared_roster: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    parent_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: MAX_GROUP_ID_CHARS }), Type.Null()])),
    shared_roster: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024 }) });
const MemberParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024 }), username: Type.String({ minLength: 1, maxLength: 3072 }) });
const MemberSchema = Type.Object({ username: Type.String(), jid: Type.String() });
const PageOnly = Type.Object(PageQuery, { additionalProperties: false });

interface CreateBody {
  id?: string;
  name: string;
  parent_id?: string | null;
  shared_roster?: boolean;
}

/** Departments and groups share one route set each, under /departments and /groups. */
export async function orgGroupRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  collectionRoutes(app, opts.server, 'department', '/departments');
  collectionRoutes(app, opts.server, 'group', '/groups');
  membershipRoutes(app, opts.server, 'department', '/departments');
  membershipRoutes(app, opts.server, 'group', '/groups');
}

function collectionRoutes(app: FastifyInstance, server: ServerContext, kind: OrgGroupKind, base: string): void {
  const host = server.config.domain;
  const tags = [`${kind}s`];
  const load = (id: string) => loadGroup(server, kind, id);

  app.get(base, { schema: { tags, summary: `List ${kind}s in id order`, querystring: PageOnly, response: { 200: Page(GroupSchema) } } }, async (request) => {
    const { limit, after } = request.query as { limit: number; after?: string };
    const groups = await server.storage.orgGroups.list(host, kind, { limit, after });
    return { items: groups.map(view), next: nextCursor(groups, limit, (group) => group.id) };
  });

  app.post(base, { schema: { tags, summary: `Create a ${kind}`, body: CreateBody, response: { 201: GroupSchema } } }, async (request, reply) => {
    const body = request.body as CreateBody;
    const id = body.id === undefined ? randomBytes(8).toString('hex') : validGroupId('/id', body.id);
    if ((await server.storage.orgGroups.get(host, id)) !== null) throw new ApiProblem(409, 'Conflict', `A department or group with the id ${id} exists.`, { field: '/id' });

    const now = Date.now();
    const parentId = body.parent_id == null ? null : await checkParent(server, kind, id, body.parent_id);
    const group: OrgGroup = { host, id, kind, name: requiredName(body.name), parentId, sharedRoster: body.shared_roster ?? false, createdAt: now, updatedAt: now };
    await server.storage.orgGroups.upsert(group);
    await server.hooks.fire('org/group-changed', { host, id, changed: ['created'] });
    reply.code(201).header('Location', `${request.url.split('?')[0]}/${encodeURIComponent(id)}`);
    return view(group);
  });

  app.get(`${base}/:id`, { schema: { tags, summary: `Read a ${kind}`, params: IdParams, response: { 200: GroupSchema } } }, async (request) => {
    return view(await load((request.params as { id: string }).id));
  });

  app.patch(`${base}/:id`, { schema: { tags, summary: `Change a ${kind}`, params: IdParams, body: PatchBody, response: { 200: GroupSchema } } }, async (request) => {
    const group = await load((request.params as { id: string }).id);
    const body = request.body as Partial<CreateBody>;
    const next: OrgGroup = { ...group, updatedAt: Date.now() };
    if (body.name !== undefined) next.name = requiredName(body.name);
    if (body.parent_id !== undefined) next.parentId = body.parent_id === null ? null : await checkParent(server, kind, group.id, body.parent_id);
    if (body.shared_roster !== undefined) next.sharedRoster = body.shared_roster;
    await server.storage.orgGroups.upsert(next);

    const changed = [
      ...(next.name === group.name ? [] : ['name']),
      ...(next.parentId === group.parentId ? [] : ['parent']),
      ...(next.sharedRoster === group.sharedRoster ? [] : ['sharedRoster']),
    ];
    if (changed.length > 0) await server.hooks.fire('org/group-changed', { host, id: group.id, changed });
    return view(next);
  });

  app.delete(
    `${base}/:id`,
    { schema: { tags, summary: `Delete a ${kind}; its members leave it`, params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const group = await load((request.params as { id: string }).id);
      const members = await server.storage.orgGroups.members(host, group.id);
      try {
        await server.storage.orgGroups.delete(host, group.id);
      } catch (err) {
        if (err instanceof OrgGroupInUseError) throw new ApiProblem(409, 'Conflict', `The ${kind} ${group.id} has child ${kind}s; delete or move them first.`);
        throw err;
      }
      const changed = [kind === 'department' ? 'department' : 'groups'];
      for (const username of members) await server.hooks.fire('account/updated', { host, username, changed });
      await server.hooks.fire('org/group-changed', { host, id: group.id, changed: ['deleted'] });
      return reply.code(204).send();
    },
  );
}

function membershipRoutes(app: FastifyInstance, server: ServerContext, kind: OrgGroupKind, base: string): void {
  const host = server.config.domain;
  const tags = [`${kind}s`];
  const member = (params: unknown) => {
    const { id, username } = params as { id: string; username: string };
    return { id, username: validUsername(username, host) };
  };

  app.get(
    `${base}/:id/members`,
    { schema: { tags, summary: `List the members of a ${kind} in username order`, params: IdParams, querystring: PageOnly, response: { 200: Page(MemberSchema) } } },
    async (request) => {
      const group = await loadGroup(server, kind, (request.params as { id: string }).id);
      const { limit, after } = request.query as { limit: number; after?: string };
      // TODO: page in SQL once groups grow beyond a few thousand members.
      const usernames = (await server.storage.orgGroups.members(host, group.id)).filter((username) => after === undefined || username > after).slice(0, limit);
      return { items: usernames.map((username) => ({ username, jid: `${username}@${host}` })), next: nextCursor(usernames, limit, (username) => username) };
    },
  );

  app.put(
    `${base}/:id/members/:username`,
    {
      schema: {
        tags,
        summary: kind === 'department' ? 'Make an account a member of the department, moving it out of its previous one' : 'Add an account to the group',
        params: MemberParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { id, username } = member(request.params);
      const group = await loadGroup(server, kind, id);
      if (kind === 'department') {
        await upsertAccount(server, { username, department: group.id }, { match: 'username', create: false });
      } else {
        const current = await groupIdsOf(server, username);
        if (!current.includes(group.id)) await upsertAccount(server, { username, groups: [...current, group.id] }, { match: 'username', create: false });
      }
      return reply.code(204).send();
    },
  );

  app.delete(
    `${base}/:id/members/:username`,
    { schema: { tags, summary: `Remove an account from the ${kind}`, params: MemberParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id, username } = member(request.params);
      const group = await loadGroup(server, kind, id);
      if (!(await server.storage.orgGroups.members(host, group.id)).includes(username)) throw notFound(`${username} as a member of ${group.id}`);
      const input = kind === 'department' ? { username, department: null } : { username, groups: (await groupIdsOf(server, username)).filter((other) => other !== group.id) };
      await upsertAccount(server, input, { match: 'username', create: false });
      return reply.code(204).send();
    },
  );
}

async function loadGroup(server: ServerContext, kind: OrgGroupKind, id: string): Promise<OrgGroup> {
  const group = await server.storage.orgGroups.get(server.config.domain, id);
  if (group === null || group.kind !== kind) throw notFound(`The ${kind} ${id}`);
  return group;
}

async function groupIdsOf(server: ServerContext, username: string): Promise<string[]> {
  if (!(await server.storage.accounts.exists(server.config.domain, username))) throw notFound(`The account ${username}`);
  const groups = await server.storage.orgGroups.groupsOf(server.config.domain, username);
  return groups.filter((group) => group.kind === 'group').map((group) => group.id);
}

/** Checks that `parentId` exists with the same kind and is not `id` or one of its descendants. */
async function checkParent(server: ServerContext, kind: OrgGroupKind, id: string, parentId: string): Promise<string> {
  let cursor: string | null = validGroupId('/parent_id', parentId);
  for (let depth = 0; cursor !== null; depth++) {
    if (cursor === id) throw invalidField('/parent_id', `${parentId} is ${id} or below it, which would make a cycle.`);
    if (depth > 100) throw invalidField('/parent_id', `The ${kind} hierarchy is deeper than 100 levels.`);
    const ancestor: OrgGroup | null = await server.storage.orgGroups.get(server.config.domain, cursor);
    if (ancestor === null || ancestor.kind !== kind) throw invalidField('/parent_id', `The ${kind} ${cursor} does not exist.`);
    cursor = ancestor.parentId;
  }
  return parentId;
}

function requiredName(name: string): string {
  const text = optionalText('/name', name, 256);
  if (text === null) throw invalidField('/name', 'A name is required.');
  return text;
}

function view(group: OrgGroup) {
  return {
    id: group.id,
    name: group.name,
    parent_id: group.parentId,
    shared_roster: group.sharedRoster,
    created_at: timestamp(group.createdAt),
    updated_at: timestamp(group.updatedAt),
  };
}
