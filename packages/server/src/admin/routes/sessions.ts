import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { JID, JidError } from '@parley/xmpp';

import type { ClientSession } from '../../c2s/session.js';
import { END_SESSION_EVENT, endSession } from '../../cluster/admin-actions.js';
import type { RemoteResource } from '../../cluster/registry.js';
import type { ServerContext } from '../../core/context.js';
import { validUsername } from '../../provisioning/account-input.js';
import { invalidField, notFound } from '../problem.js';
import { NoContent, Page, PageQuery, Timestamp, nextCursor, timestamp } from '../schemas.js';

const tags = ['sessions'];

const SessionSchema = Type.Object({
  jid: Type.String({ description: 'Full JID of the session' }),
  username: Type.String(),
  resource: Type.String(),
  transport: Type.String({ description: 'tcp or websocket' }),
  ip: Type.String(),
  secure: Type.Boolean({ description: 'Whether the connection uses TLS' }),
  available: Type.Boolean({ description: 'Whether the client sent available presence' }),
  priority: Type.Integer(),
  hibernating: Type.Boolean({ description: 'Whether the connection dropped and the session waits for stream management resumption; always false for a session on another cluster node' }),
  since: Timestamp,
  node: Type.Optional(Type.String({ description: 'The cluster node that serves the session; absent without a cluster' })),
});


const ListQuery = Type.Object(
  { ...PageQuery, username: Type.Optional(Type.String({ minLength: 1, maxLength: 3072, description: 'Only sessions of this account' })) },
  { additionalProperties: false },
);

/** Live sessions of this server process and of the other cluster nodes: list and disconnect. */
export async function sessionRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;

  app.get(
    '/sessions',
    { schema: { tags, summary: 'List the bound sessions in JID order; `after` is a full JID', querystring: ListQuery, response: { 200: Page(SessionSchema) } } },
    async (request) => {
      const query = request.query as { limit: number; after?: string; username?: string };
      const { limit, after } = query;
      const username = query.username === undefined ? undefined : validUsername(query.username, server.config.domain);
      const sessions = [...[...server.sessions.all()].map((session) => view(server, session)), ...(server.cluster?.allResources() ?? []).map(remoteView)]
        .filter((session) => username === undefined || session.username === username)
        .filter((session) => after === undefined || session.jid > after)
        .sort(byJid)
        .slice(0, limit);
      return { items: sessions, next: nextCursor(sessions, limit, (session) => session.jid) };
    },
  );

  app.delete(
    '/sessions/:jid',
    {
      schema: {
        tags,
        summary: 'End a session with a policy-violation stream error; a resumable session ends too',
        params: Type.Object({ jid: Type.String({ minLength: 1, maxLength: 3072, description: 'Full JID, URL-encoded' }) }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const text = (request.params as { jid: string }).jid;
      let full: JID;
      try {
        full = JID.parse(text);
      } catch (err) {
        if (err instanceof JidError) throw invalidField('jid', `${text} is not a valid JID: ${err.message}`);
        throw err;
      }
      if (full.resource === '' || full.domain !== server.config.domain) throw invalidField('jid', `${text} is not the full JID of a session on ${server.config.domain}.`);

      const session = server.sessions.get(full);
      const remote = session === undefined ? server.cluster?.locate(full) : undefined;
      if (session === undefined && remote === undefined) throw notFound(`The session ${full.toString()}`);
      request.log.info({ jid: full.toString(), token: request.apiTokenId, node: remote?.node }, 'admin API ended a session');
      if (session) endSession(session);
      else await server.cluster!.relayToNodes(END_SESSION_EVENT, [remote!.node], full, full.toString());
      return reply.code(204).send();
    },
  );
}

function view(server: ServerContext, session: ClientSession) {
  const jid = session.jid!;
  return {
    node: server.cluster?.nodeId,
    jid: jid.toString(),
    username: jid.local,
    resource: jid.resource,
    transport: session.transport.kind,
    ip: session.transport.remoteAddress,
    secure: session.transport.secure,
    available: session.presence !== undefined,
    priority: session.priority,
    hibernating: session.hibernating,
    since: timestamp(session.openedAt),
  };
}

function remoteView(resource: RemoteResource) {
  const { jid } = resource;
  return {
    node: resource.node,
    jid: jid.toString(),
    username: jid.local,
    resource: jid.resource,
    transport: resource.transport ?? 'unknown',
    ip: resource.ip ?? '',
    secure: resource.secure ?? false,
    available: resource.available,
    priority: resource.priority,
    hibernating: false,
    since: timestamp(resource.since),
  };
}

function byJid(a: { jid: string }, b: { jid: string }): number {
  if (a.jid === b.jid) return 0;
  return a.jid < b.jid ? -1 : 1;
}
