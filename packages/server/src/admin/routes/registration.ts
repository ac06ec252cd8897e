/**
 * The public registration endpoint of the web client: `GET` and `POST /registration`. It
 * applies the same policy, per-IP limit and invitations as in-band registration (XEP-0077),
 * through the shared rules of `modules/register/registration.ts`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import type { ServerContext } from '../../core/context.js';
import { RegistrationError, type RegistrationRefusal, registrationOf } from '../../modules/register/registration.js';
import { isLoopbackAddress } from '../../net/addresses.js';
import { clientAddress } from '../../net/trusted-proxies.js';
import type { RouteSchema } from '../openapi.js';
import { ApiProblem } from '../problem.js';

const TAGS = ['registration'];

const RegistrationInfo = Type.Object({
  domain: Type.String({ description: 'the XMPP domain of new accounts: a username u becomes u@domain' }),
  policy: Type.String({ enum: ['open', 'invite', 'closed'] }),
  min_password_length: Type.Integer(),
  token_required: Type.Boolean({ description: 'whether POST needs an invitation token' }),
});

const RegisterBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 1023 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'invitation token, required under the invite policy' })),
  },
  { additionalProperties: false },
);

const Registered = Type.Object({ username: Type.String(), jid: Type.String() });

const SCHEMAS = {
  info: { summary: 'Registration policy, for a sign-up form', tags: TAGS, response: { 200: RegistrationInfo } },
  register: { summary: 'Register an account', tags: TAGS, body: RegisterBody, response: { 201: Registered } },
} satisfies Record<string, RouteSchema>;

/** HTTP status and title of each refusal. */
const PROBLEMS: Record<RegistrationRefusal, [number, string]> = {
  closed: [403, 'Registration is closed'],
  'token-required': [403, 'Invitation required'],
  'token-invalid': [403, 'Invitation not valid'],
  'missing-field': [400, 'Invalid request'],
  'invalid-username': [400, 'Invalid request'],
  'invalid-password': [400, 'Invalid request'],
  conflict: [409, 'Username taken'],
  throttled: [429, 'Too many registrations'],
};

export async function registrationRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const registration = registrationOf(opts.server);

  app.get(
    '/registration',
    { config: { public: true }, schema: SCHEMAS.info },
    async () => {
      const info = registration.info();
      return { domain: opts.server.config.domain, policy: info.policy, min_password_length: info.minPasswordLength, token_required: info.tokenRequired };
    },
  );

  app.post<{ Body: Static<typeof RegisterBody> }>(
    '/registration',
    { config: { public: true }, schema: SCHEMAS.register },
    async (request, reply) => {
      const { username, password, token } = request.body;
      try {
        // The same order as in-band registration: the policy, then the channel.
        registration.checkOpen();
        checkChannel(opts.server, request);
        const created = await registration.register({ username, password, token, ip: clientAddress(request), via: 'http' });
        return reply.code(201).send({ username: created, jid: `${created}@${opts.server.config.domain}` });
      } catch (err) {
        if (err instanceof RegistrationError) throw toProblem(err);
        throw err;
      }
    },
  );
}

/**
 * Rejects a password sent in the clear where `[tls]` requires TLS before authentication,
 * as in-band registration does: HTTPS is required unless the client is on loopback and
 * `allow_plaintext_on_loopback` is set (a reverse proxy on the same host).
 */
function checkChannel(server: ServerContext, request: FastifyRequest): void {
  const { tls } = server.config;
  if (!tls.require_for_auth || request.protocol === 'https') return;
  if (tls.allow_plaintext_on_loopback && isLoopbackAddress(clientAddress(request))) return;
  throw new ApiProblem(403, 'HTTPS required', 'Registration sends a password, so it requires HTTPS; use the HTTPS listener.');
}

function toProblem(err: RegistrationError): ApiProblem {
  const [status, title] = PROBLEMS[err.reason];
  return new ApiProblem(status, title, err.message, err.field === undefined ? {} : { field: `/${err.field}` });
}
