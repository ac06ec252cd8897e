/** Webhook endpoints and their deliveries: `/webhooks`. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { ServerContext } from '../../core/context.js';
import type { WebhookEndpoint } from '../../storage/index.js';
import { WebhookUrlError, addEndpoint, checkedUrl, webhooksOf } from '../../webhooks/index.js';
import type { RouteSchema } from '../openapi.js';
import { ApiProblem, invalidField, notFound } from '../problem.js';
import { NoContent, nextCursor } from '../schemas.js';
import {
  CreateEndpointBody,
  type CreateEndpointInput,
  CreatedEndpoint,
  Delivery,
  DeliveryPage,
  DeliveryParams,
  DeliveryQuery,
  Endpoint,
  EndpointPage,
  EndpointParams,
  EndpointQuery,
  UpdateEndpointBody,
  type UpdateEndpointInput,
  deliveryJson,
  endpointJson,
} from './webhook-schemas.js';

const TAGS = ['webhooks'];

const SCHEMAS = {
  create: { summary: 'Add a webhook endpoint', tags: TAGS, body: CreateEndpointBody, response: { 201: CreatedEndpoint } },
  list: { summary: 'List webhook endpoints', tags: TAGS, querystring: EndpointQuery, response: { 200: EndpointPage } },
  read: { summary: 'Read a webhook endpoint', tags: TAGS, params: EndpointParams, response: { 200: Endpoint } },
  update: { summary: 'Change a webhook endpoint', tags: TAGS, params: EndpointParams, body: UpdateEndpointBody, response: { 200: Endpoint } },
  remove: { summary: 'Remove a webhook endpoint and its deliveries', tags: TAGS, params: EndpointParams, response: { 204: NoContent } },
  deliveries: { summary: "List an endpoint's deliveries, newest first", tags: TAGS, params: EndpointParams, querystring: DeliveryQuery, response: { 200: DeliveryPage } },
  retry: { summary: 'Send a delivery again now; a failed one gets one more attempt', tags: TAGS, params: DeliveryParams, response: { 202: Delivery } },
  test: { summary: 'Send a webhook/ping event to the endpoint', tags: TAGS, params: EndpointParams, response: { 202: Delivery } },
} satisfies Record<string, RouteSchema>;

export async function webhookRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;
  const repository = server.storage.webhooks;

  /** Returns the endpoint or throws a 404 problem. */
  async function endpointOr404(id: string): Promise<WebhookEndpoint> {
    const endpoint = await repository.getEndpoint(id);
    if (!endpoint) throw notFound(`Webhook ${id}`);
    return endpoint;
  }

  app.post<{ Body: CreateEndpointInput }>(
    '/webhooks',
    { schema: SCHEMAS.create },
    async (request, reply) => {
      const endpoint = await addEndpoint(server.storage, server.config, request.body).catch((err: unknown) => Promise.reject(urlProblem(err)));
      reply.code(201).header('location', `${request.url.replace(/\?.*$/, '')}/${endpoint.id}`);
      return { ...endpointJson(endpoint), secret: endpoint.secret };
    },
  );

  app.get<{ Querystring: Static<typeof EndpointQuery> }>(
    '/webhooks',
    { schema: SCHEMAS.list },
    async (request) => {
      const { limit, after } = request.query;
      const endpoints = await repository.listEndpoints({ limit, after });
      return { items: endpoints.map(endpointJson), next: nextCursor(endpoints, limit, (endpoint) => endpoint.id) };
    },
  );

  app.get<{ Params: Static<typeof EndpointParams> }>(
    '/webhooks/:id',
    { schema: SCHEMAS.read },
    async (request) => endpointJson(await endpointOr404(request.params.id)),
  );

  app.patch<{ Params: Static<typeof EndpointParams>; Body: UpdateEndpointInput }>(
    '/webhooks/:id',
    { schema: SCHEMAS.update },
    async (request) => {
      const { body } = request;
      const changes = { ...body, ...(body.url === undefined ? {} : { url: urlOrProblem(server, body.url) }) };
      const endpoint = await repository.updateEndpoint(request.params.id, changes);
      if (!endpoint) throw notFound(`Webhook ${request.params.id}`);
      // Re-enabling an endpoint makes its held deliveries due.
      if (body.enabled === true) webhooksOf(server)?.wake();
      return endpointJson(endpoint);
    },
  );

  app.delete<{ Params: Static<typeof EndpointParams> }>(
    '/webhooks/:id',
    { schema: SCHEMAS.remove },
    async (request, reply) => {
      if (!(await repository.deleteEndpoint(request.params.id))) throw notFound(`Webhook ${request.params.id}`);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof EndpointParams>; Querystring: Static<typeof DeliveryQuery> }>(
    '/webhooks/:id/deliveries',
    { schema: SCHEMAS.deliveries },
    async (request) => {
      await endpointOr404(request.params.id);
      const { status, after, limit } = request.query;
      const deliveries = await repository.listDeliveries(request.params.id, { status, after, limit });
      return { items: deliveries.map(deliveryJson), next: nextCursor(deliveries, limit, (delivery) => String(delivery.id)) };
    },
  );

  app.post<{ Params: Static<typeof DeliveryParams> }>(
    '/webhooks/:id/deliveries/:delivery(^[0-9]+)::retry',
    { schema: SCHEMAS.retry },
    async (request, reply) => {
      const { id, delivery } = request.params;
      checkSending(server, await endpointOr404(id));
      const retried = await repository.retry(id, Number(delivery));
      if (!retried) throw notFound(`Delivery ${delivery} of webhook ${id}`);
      webhooksOf(server)?.wake();
      return reply.code(202).send(deliveryJson(retried));
    },
  );

  app.post<{ Params: Static<typeof EndpointParams> }>(
    '/webhooks/:id(^[A-Za-z0-9_-]+)::test',
    { schema: SCHEMAS.test },
    async (request, reply) => {
      checkSending(server, await endpointOr404(request.params.id));
      const service = webhooksOf(server);
      const id = service && (await service.ping(request.params.id));
      const delivery = id === undefined ? undefined : await repository.getDelivery(request.params.id, id);
      if (!delivery) throw new ApiProblem(409, 'Webhooks are not running', 'This server does not send webhooks.');
      return reply.code(202).send(deliveryJson(delivery));
    },
  );
}

/** Returns the URL as normalized text, or throws a 400 problem naming the url field. */
function urlOrProblem(server: ServerContext, text: string): string {
  try {
    return checkedUrl(server.config, text);
  } catch (err) {
    throw urlProblem(err);
  }
}

function urlProblem(err: unknown): unknown {
  return err instanceof WebhookUrlError ? invalidField('/url', err.message) : err;
}

/** Throws a 409 problem when nothing would be sent to the endpoint now. */
function checkSending(server: ServerContext, endpoint: WebhookEndpoint): void {
  if (!server.config.webhooks.enabled) {
    throw new ApiProblem(409, 'Webhooks are disabled', 'Webhooks are disabled in the server configuration ([webhooks] enabled = false).');
  }
  if (!endpoint.enabled) throw new ApiProblem(409, 'Webhook endpoint disabled', `Webhook ${endpoint.id} is disabled; enable it first.`);
}
