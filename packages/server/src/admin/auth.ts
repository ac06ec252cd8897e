import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../core/context.js';
import { sendProblem } from './errors.js';
import { ApiProblem } from './problem.js';
import { verifyApiToken } from './tokens.js';

/**
 * Checks `Authorization: Bearer <token>` on every admin route except those with
 * `config: { public: true }`. Missing, malformed, unknown, wrong and revoked tokens all
 * get the same 401 problem (RFC 6750 section 3).
 */
export function bearerAuth(server: ServerContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if ((request.routeOptions.config as { public?: boolean }).public === true) return undefined;

    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      return sendProblem(reply, new ApiProblem(401, 'Unauthorized', 'An Authorization header with a bearer token is required.'));
    }

    const token = await verifyApiToken(server.storage, match[1]!);
    if (token === null) {
      reply.header('WWW-Authenticate', 'Bearer realm="parley-admin", error="invalid_token"');
      return sendProblem(reply, new ApiProblem(401, 'Unauthorized', 'The bearer token is invalid or revoked.'));
    }
    request.apiTokenId = token.id;
    return undefined;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Id of the admin API token that authenticated the request; undefined on public routes. */
    apiTokenId?: string;
  }
}
