import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import { accountRoutes } from './accounts.js';
import { avatarRoutes } from './avatars.js';
import { importRoutes } from './import.js';
import { invitationRoutes } from './invitations.js';
import { orgGroupRoutes } from './org-groups.js';
import { registrationRoutes } from './registration.js';
import { sessionRoutes } from './sessions.js';
import { statsRoutes } from './stats.js';
import { webhookRoutes } from './webhooks.js';

/** A route module: a Fastify plugin registered under /api/v1 with the server context. */
export type AdminRouteModule = (app: FastifyInstance, opts: { server: ServerContext }) => Promise<void>;

/** Every route module of the admin API, registered in this order. */
export const adminRouteModules: AdminRouteModule[] = [accountRoutes, avatarRoutes, importRoutes, orgGroupRoutes, sessionRoutes, invitationRoutes, statsRoutes, webhookRoutes, registrationRoutes];
