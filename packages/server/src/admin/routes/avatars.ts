import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import { AVATAR_TYPES, MAX_AVATAR_BYTES, validUsername } from '../../provisioning/account-input.js';
import { upsertAccount } from '../../provisioning/accounts-service.js';
import { ApiProblem, invalidField, notFound } from '../problem.js';
import { NoContent } from '../schemas.js';
import { UsernameParams } from './account-schemas.js';

const tags = ['accounts'];

/** Registers the routes that read, replace and remove an account's avatar image as raw bytes. */
export async function avatarRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;
  const prepared = (username: string) => validUsername(username, server.config.domain);

  // Image bodies arrive as they are; the account service checks type, size and signature.
  app.addContentTypeParser([...AVATAR_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get(
    '/accounts/:username/avatar',
    { schema: { tags, summary: "Read an account's avatar image", params: UsernameParams, produces: [...AVATAR_TYPES], response: { 200: { description: 'The image' } } } as object },
    async (request, reply) => {
      const username = prepared((request.params as { username: string }).username);
      if (!(await server.storage.accounts.exists(server.config.domain, username))) throw notFound(`The account ${username}`);
      const avatar = await server.storage.profiles.getAvatar(server.config.domain, username);
      if (avatar === null) throw notFound(`An avatar of ${username}`);
      return reply.type(avatar.type).header('ETag', `"${avatar.sha1}"`).send(avatar.data);
    },
  );

  app.put(
    '/accounts/:username/avatar',
    {
      // The route's limit wins over the content type parser's, so the avatar limit goes here.
      bodyLimit: MAX_AVATAR_BYTES,
      schema: {
        tags,
        summary: `Replace an account's avatar with the image in the body (at most ${MAX_AVATAR_BYTES} bytes)`,
        params: UsernameParams,
        consumes: [...AVATAR_TYPES],
        response: { 204: NoContent },
      } as object,
    },
    async (request, reply) => {
      const username = prepared((request.params as { username: string }).username);
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!Buffer.isBuffer(request.body)) throw invalidField('', `The body must be an image: ${AVATAR_TYPES.join(', ')}.`);
      // The image is the whole body, so a problem with it points at the body's root.
      await upsertAccount(server, { username, avatar: { type, data: request.body } }, { match: 'username', create: false }).catch((err: unknown) =>
        Promise.reject(err instanceof ApiProblem && err.extra.field === 'avatar' ? invalidField('', err.detail ?? err.title) : err),
      );
      return reply.code(204).send();
    },
  );

  app.delete(
    '/accounts/:username/avatar',
    { schema: { tags, summary: "Remove an account's avatar", params: UsernameParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const username = prepared((request.params as { username: string }).username);
      await upsertAccount(server, { username, avatar: null }, { match: 'username', create: false });
      return reply.code(204).send();
    },
  );
}
