import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Element } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { ClientSession } from '../../c2s/session.js';
import { type BoshCondition, BoshError, integerAttr, parseBody, terminateBody } from './body.js';
import { BoshSession } from './session.js';
import { clientAddress } from '../trusted-proxies.js';

export const BOSH_PATH = '/http-bind';

/** The BOSH sessions of a server by sid, shared by its HTTP and HTTPS listeners. */
const registries = new WeakMap<ServerContext, Map<string, BoshSession>>();

/** Returns the live BOSH sessions of `server`, by sid. */
export function boshSessionsOf(server: ServerContext): Map<string, BoshSession> {
  let sessions = registries.get(server);
  if (!sessions) {
    sessions = new Map();
    registries.set(server, sessions);
  }
  return sessions;
}

/**
 * Serves BOSH (XEP-0124 with XEP-0206) at /http-bind: POST only, any content type read
 * as text up to `bosh.max_body_bytes`. Every failure gets a terminating `<body/>` with
 * HTTP status 200, as XEP-0124 section 17 recommends.
 */
export async function registerBosh(app: FastifyInstance, server: ServerContext): Promise<void> {
  const sessions = boshSessionsOf(server);
  const maxBodyBytes = server.config.bosh.max_body_bytes;
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((error: { statusCode?: number }, request, reply) => {
      let condition: BoshCondition = 'internal-server-error';
      if (error.statusCode === 413) condition = 'policy-violation';
      else if (error.statusCode !== undefined && error.statusCode < 500) condition = 'bad-request';
      else request.log.error({ err: error }, 'BOSH request failed');
      void xmlReply(reply).code(200).send(terminateBody(condition));
    });
    scope.options(BOSH_PATH, async (_request, reply) => allowCrossOrigin(reply).code(204).send());
    scope.get(BOSH_PATH, async (_request, reply) => allowCrossOrigin(reply).code(405).header('Allow', 'POST, OPTIONS').send());
    scope.post(BOSH_PATH, async (request, reply) => {
      const text = typeof request.body === 'string' ? request.body : '';
      xmlReply(reply);
      return handleRequest(server, sessions, text, request);
    });
  });
}

async function handleRequest(server: ServerContext, sessions: Map<string, BoshSession>, text: string, request: FastifyRequest): Promise<string> {
  let body: Element;
  try {
    body = parseBody(text, server.config.bosh.max_body_bytes);
  } catch (err) {
    if (err instanceof BoshError) return terminateBody(err.condition);
    throw err;
  }
  const sid = body.attr('sid');
  if (sid === undefined) return createSession(server, sessions, body, request);
  const session = sessions.get(sid);
  if (!session) return terminateBody('item-not-found');
  return new Promise((resolve) => session.handle(body, Buffer.byteLength(text, 'utf8'), resolve));
}

/** XEP-0124 section 7: a request without sid creates a session, and a ClientSession runs over it. */
function createSession(server: ServerContext, sessions: Map<string, BoshSession>, body: Element, request: FastifyRequest): Promise<string> | string {
  const { bosh, domain, sessions: limits } = server.config;
  const rid = integerAttr(body, 'rid');
  const wait = integerAttr(body, 'wait') ?? bosh.max_wait_s;
  const hold = integerAttr(body, 'hold') ?? 1;
  if (rid === undefined || [rid, wait, hold].some(Number.isNaN)) return terminateBody('bad-request');
  if (body.attr('to')?.toLowerCase() !== domain) return terminateBody('host-unknown');

  const session = new BoshSession({
    sid: randomBytes(18).toString('base64url'),
    domain,
    remoteAddress: clientAddress(request),
    secure: request.protocol === 'https',
    waitS: Math.max(1, Math.min(wait, bosh.max_wait_s)),
    hold: Math.min(hold, bosh.max_hold),
    inactivityS: bosh.inactivity_s,
    pollingS: bosh.polling_s,
    maxStanzaBytes: limits.max_stanza_bytes,
    acks: body.attr('ack') !== undefined,
    onGone: (sid) => sessions.delete(sid),
  });
  sessions.set(session.sid, session);
  new ClientSession(server, session);
  return new Promise((resolve) => session.start(body, rid, resolve));
}

function xmlReply(reply: FastifyReply): FastifyReply {
  return allowCrossOrigin(reply).type('text/xml; charset=utf-8');
}

/** Browsers reach BOSH from web pages on other origins; the requests carry no cookies, only XMPP credentials. */
function allowCrossOrigin(reply: FastifyReply): FastifyReply {
  return reply
    .header('Access-Control-Allow-Origin', '*')
    .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
    .header('Access-Control-Allow-Headers', 'Content-Type')
    .header('Access-Control-Max-Age', '86400');
}
