import { createHash, randomBytes } from 'node:crypto';

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import type { Invite } from '../../storage/invites.js';
import { notFound } from '../problem.js';
import { NoContent, Page, PageQuery, Timestamp, nextCursor, timestamp } from '../schemas.js';

const tags = ['invitations'];
/** Bytes of randomness in an invitation token, as `parleyctl invite` makes them. */
const TOKEN_BYTES = 18;

const InvitationSchema = Type.Object({
  id: Type.String({ description: 'Hex SHA-256 of the token; the token itself is shown only at creation' }),
  max_uses: Type.Integer(),
  uses: Type.Integer(),
  expires_at: Type.Union([Timestamp, Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});

const CreatedInvitation = Type.Composite([InvitationSchema, Type.Object({ token: Type.String({ description: 'The registration token. Store it now, because it is not shown again' }) })]);

const CreateBody = Type.Object(
  {
    max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Accounts the token may create' })),
    expires_in_s: Type.Optional(Type.Union([Type.Integer({ minimum: 60, maximum: 31_536_000 }), Type.Null()], { description: 'Seconds until the token expires (default 7 days); null means it never expires' })),
    note: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

/** Registration invitations (for `registration.policy = "invite"`): create, list, revoke. */
export async function invitationRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;
  const host = server.config.domain;

  app.post('/invitations', { schema: { tags, summary: 'Create an invitation token', body: CreateBody, response: { 201: CreatedInvitation } } }, async (request, reply) => {
    const body = request.body as { max_uses?: number; expires_in_s?: number | null; note?: string };
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = Date.now();
    const expiresIn = body.expires_in_s === undefined ? 7 * 86_400 : body.expires_in_s;
    const invite: Invite = {
      tokenHash: createHash('sha256').update(token).digest('hex'),
      host,
      createdAt: now,
      expiresAt: expiresIn === null ? null : now + expiresIn * 1000,
      maxUses: body.max_uses ?? 1,
      uses: 0,
      createdBy: `api-token:${request.apiTokenId ?? 'unknown'}`,
      note: body.note?.trim() || null,
    };
    await server.storage.invites.create(invite);
    reply.code(201).header('Location', `${request.url.split('?')[0]}/${invite.tokenHash}`);
    return { ...view(invite), token };
  });

  app.get(
    '/invitations',
    { schema: { tags, summary: 'List invitations, oldest first, expired and used-up ones included', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(InvitationSchema) } } },
    async (request) => {
      const { limit, after } = request.query as { limit: number; after?: string };
      const all = await server.storage.invites.list(host);
      // TODO: page in SQL; the list is loaded whole, which suits the few invitations a server has.
      const start = after === undefined ? 0 : all.findIndex((invite) => invite.tokenHash === after) + 1;
      const page = start === 0 && after !== undefined ? [] : all.slice(start, start + limit);
      return { items: page.map(view), next: nextCursor(page, limit, (invite) => invite.tokenHash) };
    },
  );

  app.delete(
    '/invitations/:id',
    { schema: { tags, summary: 'Revoke an invitation', params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{64}$' }) }), response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const invite = (await server.storage.invites.list(host)).find((candidate) => candidate.tokenHash === id);
      if (invite === undefined || !(await server.storage.invites.revoke(id))) throw notFound(`The invitation ${id}`);
      return reply.code(204).send();
    },
  );
}

function view(invite: Invite) {
  return {
    id: invite.tokenHash,
    max_uses: invite.maxUses,
    uses: invite.uses,
    expires_at: invite.expiresAt === null ? null : timestamp(invite.expiresAt),
    note: invite.note,
    created_by: invite.createdBy,
    created_at: timestamp(invite.createdAt),
  };
}
