import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import { validUsername } from '../../provisioning/account-input.js';
import { deleteAccount, disableAccount, enableAccount, resetPassword, upsertAccount } from '../../provisioning/accounts-service.js';
import { notFound } from '../problem.js';
import { NoContent, Page, PageQuery, nextCursor, timestamp } from '../schemas.js';
import {
  AccountCreateBody,
  AccountPatchBody,
  AccountSchema,
  UsernameParams,
  asBodyProblem,
  loadAccountView,
  toAccountInput,
  type AccountView,
} from './account-schemas.js';

const tags = ['accounts'];

const ListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 256, description: 'Text in the username, display name, email or external id' })),
    department: Type.Optional(Type.String({ maxLength: 1024, description: 'Only accounts of this department' })),
  },
  { additionalProperties: false },
);

const UpsertResponse = Type.Object({
  created: Type.Boolean(),
  changed: Type.Array(Type.String(), { description: 'Fields that changed; empty when the account already matched the request' }),
  account: AccountSchema,
});

const PasswordBody = Type.Object({ password: Type.String({ maxLength: 4096 }) }, { additionalProperties: false });

/** Accounts: list, create, read, update, delete, idempotent upsert, disable and enable, password reset. */
export async function accountRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;
  const prepared = (username: string) => validUsername(username, server.config.domain);

  app.get('/accounts', { schema: { tags, summary: 'List accounts in username order', querystring: ListQuery, response: { 200: Page(AccountSchema) } } }, async (request) => {
    const query = request.query as { limit: number; after?: string; search?: string; department?: string };
    const entries = await server.storage.profiles.list(server.config.domain, query);
    const groups = await server.storage.orgGroups.groupIdsOf(server.config.domain, entries.map((entry) => entry.username), 'group');
    const items: AccountView[] = entries.map((entry) => ({
      username: entry.username,
      jid: `${entry.username}@${entry.host}`,
      external_id: entry.externalId,
      display_name: entry.displayName,
      email: entry.email,
      phone: entry.phone,
      title: entry.title,
      department: entry.department,
      groups: groups.get(entry.username) ?? [],
      avatar_sha1: entry.avatarSha1,
      disabled: entry.disabled,
      created_at: timestamp(entry.createdAt),
      updated_at: timestamp(entry.updatedAt),
    }));
    return { items, next: nextCursor(items, query.limit, (item) => item.username) };
  });

  app.post(
    '/accounts',
    { schema: { tags, summary: 'Create an account', body: AccountCreateBody, response: { 201: AccountSchema } } },
    async (request, reply) => {
      const input = toAccountInput(request.body as AccountCreateBody);
      const result = await upsertAccount(server, input, { match: 'username', update: false }).catch((err: unknown) => Promise.reject(asBodyProblem(err)));
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${encodeURIComponent(result.username)}`);
      return loadAccountView(server, result.username);
    },
  );

  app.put(
    '/accounts::upsert',
    {
      schema: {
        tags,
        summary: 'Create or update an account by external id, or by username without one',
        description: 'Repeating the same request changes nothing: the response then has `changed: []` and no event fires.',
        body: AccountCreateBody,
        response: { 200: UpsertResponse, 201: UpsertResponse },
      },
    },
    async (request, reply) => {
      const result = await upsertAccount(server, toAccountInput(request.body as AccountCreateBody)).catch((err: unknown) => Promise.reject(asBodyProblem(err)));
      reply.code(result.created ? 201 : 200);
      return { created: result.created, changed: result.changed, account: await loadAccountView(server, result.username) };
    },
  );

  app.get(
    '/accounts/by-external-id/:externalId',
    { schema: { tags, summary: 'Read the account with an external id', params: Type.Object({ externalId: Type.String({ minLength: 1, maxLength: 1024 }) }), response: { 200: AccountSchema } } },
    async (request) => {
      const { externalId } = request.params as { externalId: string };
      const profile = await server.storage.profiles.getByExternalId(server.config.domain, externalId);
      if (profile === null) throw notFound(`An account with the external id ${externalId}`);
      return loadAccountView(server, profile.username);
    },
  );

  app.get('/accounts/:username', { schema: { tags, summary: 'Read an account', params: UsernameParams, response: { 200: AccountSchema } } }, async (request) => {
    return loadAccountView(server, prepared((request.params as { username: string }).username));
  });

  app.patch(
    '/accounts/:username',
    { schema: { tags, summary: 'Change fields of an account', params: UsernameParams, body: AccountPatchBody, response: { 200: AccountSchema } } },
    async (request) => {
      const username = prepared((request.params as { username: string }).username);
      const input = { ...toAccountInput(request.body as AccountPatchBody), username };
      await upsertAccount(server, input, { match: 'username', create: false }).catch((err: unknown) => Promise.reject(asBodyProblem(err)));
      return loadAccountView(server, username);
    },
  );

  app.delete(
    '/accounts/:username',
    { schema: { tags, summary: 'Delete an account and everything stored for it; its sessions end', params: UsernameParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await deleteAccount(server, prepared((request.params as { username: string }).username));
      return reply.code(204).send();
    },
  );

  accountActions(app, server);
}

/** Registers the custom methods `:disable`, `:enable` and `:reset-password` of one account. */
function accountActions(app: FastifyInstance, server: ServerContext): void {
  const prepared = (username: string) => validUsername(username, server.config.domain);
  // The regex keeps the colon of the custom method out of the parameter.
  const base = '/accounts/:username([^:/]+)';

  app.post(
    `${base}::disable`,
    { schema: { tags, summary: 'Disable an account: its sessions end and its logins fail', params: UsernameParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await disableAccount(server, prepared((request.params as { username: string }).username));
      return reply.code(204).send();
    },
  );

  app.post(`${base}::enable`, { schema: { tags, summary: 'Enable a disabled account', params: UsernameParams, response: { 204: NoContent } } }, async (request, reply) => {
    await enableAccount(server, prepared((request.params as { username: string }).username));
    return reply.code(204).send();
  });

  app.post(
    `${base}::reset-password`,
    { schema: { tags, summary: 'Set a new password; open sessions stay connected', params: UsernameParams, body: PasswordBody, response: { 204: NoContent } } },
    async (request, reply) => {
      const { password } = request.body as { password: string };
      await resetPassword(server, prepared((request.params as { username: string }).username), password).catch((err: unknown) => Promise.reject(asBodyProblem(err)));
      return reply.code(204).send();
    },
  );
}
