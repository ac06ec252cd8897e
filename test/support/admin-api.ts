import { createApiToken } from '../../packages/server/src/admin/tokens.js';
import { startTestServer, type TestServer } from './server.js';

/** A parsed JSON body. Tests read many shapes of it and check them with assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

/** A response of the admin API: status, headers and the body parsed as JSON when it is JSON. */
export interface ApiResponse<T = JsonBody> {
  status: number;
  headers: Headers;
  body: T;
  /** The raw body bytes. */
  raw: Buffer;
}

/** A test server with the admin API and a valid token. */
export interface AdminApi {
  /** Base URL of the API, `http://127.0.0.1:PORT/api/v1`. */
  url: string;
  token: string;
  server: TestServer;
  /** Sends a request with the token; a Buffer body goes out as it is with `contentType`. */
  request<T = JsonBody>(method: string, path: string, body?: unknown, options?: { token?: string | null; contentType?: string }): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with its HTTP listener, creates an API token and returns a client for the API. */
export async function startAdminApi(overrides: Record<string, unknown> = {}): Promise<AdminApi> {
  const server = await startTestServer(overrides);
  const { token } = await createApiToken(server.server.storage, 'test');
  const url = `http://127.0.0.1:${server.httpPort}/api/v1`;

  return {
    url,
    token,
    server,
    request: (method, path, body, options = {}) => sendRequest(url, options.token === undefined ? token : options.token, method, path, body, options.contentType),
    stop: () => server.stop(),
  };
}

async function sendRequest(url: string, token: string | null, method: string, path: string, body: unknown, contentType?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | Buffer | undefined;
  if (Buffer.isBuffer(body)) {
    payload = body;
    headers['content-type'] = contentType ?? 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = contentType ?? 'application/json';
  }

  const response = await fetch(url + path, { method, headers, body: payload, signal: AbortSignal.timeout(10_000) });
  const raw = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const parsed: unknown = /json/.test(type) && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : raw;
  return { status: response.status, headers: response.headers, body: parsed, raw };
}
