import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySerializerCompiler } from 'fastify';

import type { ServerContext } from '../core/context.js';
import { bearerAuth } from './auth.js';
import { handleAdminError, sendProblem } from './errors.js';
import { buildOpenApiDocument, documentedRoute, type DocumentedRoute } from './openapi.js';
import { notFound } from './problem.js';
import { adminRouteModules } from './routes/index.js';
import { typeBoxValidatorCompiler } from './validation.js';

/** Path prefix of the admin REST API. */
export const ADMIN_API_PREFIX = '/api/v1';

/** Options every admin route module gets. */
export interface AdminRouteOptions {
  server: ServerContext;
}

/**
 * Serves the admin REST API under /api/v1 on `app` unless `[api] enabled` is false:
 * bearer-token authentication, TypeBox validation, problem+json errors and the OpenAPI
 * document at /api/v1/openapi.json, generated from the routes' schemas.
 */
export async function registerAdminApi(app: FastifyInstance, server: ServerContext): Promise<void> {
  if (!server.config.api.enabled) return;
  await app.register(adminApi, { prefix: ADMIN_API_PREFIX, server });
}

async function adminApi(app: FastifyInstance, { server }: AdminRouteOptions): Promise<void> {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= server.config.api.max_body_bytes;
    const documented = documentedRoute(route, ADMIN_API_PREFIX);
    if (documented) routes.push(documented);
  });

  app.setValidatorCompiler(typeBoxValidatorCompiler);
  // Response schemas document the API; responses are sent as the handlers build them.
  app.setSerializerCompiler((() => (data: unknown) => JSON.stringify(data)) as FastifySerializerCompiler<unknown>);
  app.setErrorHandler(handleAdminError(server.log.child({ component: 'admin-api' })));
  const unknownRoute = (request: FastifyRequest, reply: FastifyReply) => sendProblem(reply, notFound(`The resource ${request.method} ${request.url.split('?')[0]}`));
  app.setNotFoundHandler(unknownRoute);
  // A catch-all route, because a wildcard route of the listener (the web client's) would take these paths before the not-found handler.
  app.all('/*', { schema: { hide: true } as object }, unknownRoute);
  app.addHook('onRequest', bearerAuth(server));

  app.get(
    '/openapi.json',
    { config: { public: true }, schema: { hide: true } as object },
    async () => buildOpenApiDocument(routes, { title: 'Parley admin API', version: '1', serverUrl: ADMIN_API_PREFIX }),
  );

  for (const module of adminRouteModules) await app.register(module, { server });
}
