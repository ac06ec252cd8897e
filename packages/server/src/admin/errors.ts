import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { ApiProblem } from './problem.js';

/** Media type of RFC 9457 problem details. */
export const PROBLEM_TYPE = 'application/problem+json';

/** Sends `problem` as `application/problem+json`; a 401 also gets `WWW-Authenticate: Bearer` (RFC 6750). */
export function sendProblem(reply: FastifyReply, problem: ApiProblem): FastifyReply {
  if (problem.status === 401 && !reply.hasHeader('WWW-Authenticate')) reply.header('WWW-Authenticate', 'Bearer realm="parley-admin"');
  return reply.code(problem.status).type(PROBLEM_TYPE).send(JSON.stringify(problem.toJSON()));
}

/**
 * Turns any error of an admin route into a problem document. Client errors that Fastify
 * raises (a malformed JSON body, a body over the size limit, an unsupported media type)
 * keep their status and message. Anything else is a 500 without internals; the log line
 * and the response share an incident id.
 */
export function handleAdminError(log: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof ApiProblem) return sendProblem(reply, error);

    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const extra = (error as FastifyError).code?.startsWith('FST_ERR_CTP_') && status === 400 ? { field: '' } : {};
      return sendProblem(reply, new ApiProblem(status, STATUS_CODES[status] ?? 'Bad Request', error.message, extra));
    }

    const incident = randomUUID();
    log.error({ err: error, incident, method: request.method, url: request.routeOptions.url }, 'admin API request failed');
    return sendProblem(reply, new ApiProblem(500, 'Internal Server Error', `The request failed. The server log has the details under incident ${incident}.`, { incident }));
  };
}
