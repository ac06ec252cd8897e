import type { RouteOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';

import { PROBLEM_TYPE } from './errors.js';
import { ProblemSchema } from './schemas.js';

/** One route's entry in the document, collected when the route is registered. */
export interface DocumentedRoute {
  method: string;
  /** Path in OpenAPI form below the API prefix, such as `/accounts/{username}`. */
  path: string;
  schema: RouteSchema;
  isPublic: boolean;
}

/** The schema keys that admin routes declare; `consumes` and `produces` list media types of raw bodies. */
export interface RouteSchema {
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  consumes?: string[];
  produces?: string[];
  response?: Record<string, TSchema>;
}

/** Returns the route as the OpenAPI document lists it, or undefined for routes it leaves out (HEAD, the document itself). */
export function documentedRoute(route: RouteOptions, prefix: string): DocumentedRoute | undefined {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const method = methods.find((name) => name !== 'HEAD');
  const schema = (route.schema ?? {}) as RouteSchema & { hide?: boolean };
  if (method === undefined || schema.hide === true) return undefined;
  const isPublic = (route.config as { public?: boolean } | undefined)?.public === true;
  return { method: method.toLowerCase(), path: openApiPath(route.url.slice(prefix.length) || '/'), schema, isPublic };
}

/**
 * Converts a Fastify path to OpenAPI: `:name` and `:name(regex)` become `{name}`, and
 * the escaped colon `::` becomes a literal `:` (as in `/accounts/{username}:disable`).
 */
export function openApiPath(url: string): string {
  const escaped = '\u0000';
  return url
    .replaceAll('::', escaped)
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?/g, '{$1}')
    .replaceAll(escaped, ':');
}

/** Builds the OpenAPI 3.1 document of the routes. */
export function buildOpenApiDocument(routes: DocumentedRoute[], info: { title: string; version: string; serverUrl: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation(route);
  }

  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    servers: [{ url: info.serverUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `parleyctl token create --name NAME`.' } },
      schemas: { Problem: plain(ProblemSchema) },
    },
    paths,
  };
}

function operation(route: DocumentedRoute): Record<string, unknown> {
  const { schema } = route;
  const result: Record<string, unknown> = {
    operationId: schema.operationId ?? operationId(route),
    ...(schema.summary ? { summary: schema.summary } : {}),
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.tags ? { tags: schema.tags } : {}),
  };

  const parameters = [...parametersOf(schema.params, 'path'), ...parametersOf(schema.querystring, 'query')];
  if (parameters.length > 0) result.parameters = parameters;
  if (schema.body) result.requestBody = { required: true, content: { 'application/json': { schema: plain(schema.body) } } };
  else if (schema.consumes) result.requestBody = { required: true, content: Object.fromEntries(schema.consumes.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])) };

  result.responses = responses(route);
  if (route.isPublic) result.security = [];
  return result;
}

function responses(route: DocumentedRoute): Record<string, unknown> {
  const documented: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(route.schema.response ?? {})) {
    const description = schema.description ?? (status === '204' ? 'No content' : 'Success');
    if (status === '204') documented[status] = { description };
    else if (route.schema.produces && status.startsWith('2')) {
      documented[status] = { description, content: Object.fromEntries(route.schema.produces.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])) };
    } else documented[status] = { description, content: { 'application/json': { schema: plain(schema) } } };
  }
  documented.default = { description: 'An error, as RFC 9457 problem details', content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
  return documented;
}

function parametersOf(schema: TSchema | undefined, location: 'path' | 'query'): Record<string, unknown>[] {
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
  const required = new Set<string>((schema?.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    ...(property.description ? { description: property.description } : {}),
    schema: plain(property),
  }));
}

/** Makes an operation id from the method and path: `post /accounts/{username}:disable` -> `postAccountsUsernameDisable`. */
function operationId(route: DocumentedRoute): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

/** Returns the schema as plain JSON, without TypeBox's symbol keys. */
function plain(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema)) as unknown;
}
