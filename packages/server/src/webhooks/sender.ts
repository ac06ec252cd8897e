/** Sends one webhook request over HTTP or HTTPS, with a deadline and the address policy. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebhookUrlError, checkHost, guardedLookup } from './address-policy.js';

export interface SendOptions {
  timeoutMs: number;
  allowPrivateAddresses: boolean;
  /** Aborts the request when the server stops. */
  signal: AbortSignal;
}

/** The outcome of an attempt: `ok` for a 2xx response. `status` is null when no response came. */
export interface SendResult {
  ok: boolean;
  status: number | null;
  error?: string;
}

/** Posts `body` to `url`. Never throws: every failure becomes a result with an error text. */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  let target: URL;
  try {
    target = new URL(url);
    checkHost(target, options.allowPrivateAddresses);
  } catch (err) {
    return { ok: false, status: null, error: err instanceof WebhookUrlError ? err.message : 'invalid URL' };
  }

  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, options.signal]);
  try {
    const response = await send(target, headers, body, signal, options.allowPrivateAddresses);
    const status = response.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    return ok ? { ok, status } : { ok, status, error: `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}` };
  } catch (err) {
    if (timeout.aborted) return { ok: false, status: null, error: `timed out after ${options.timeoutMs} ms without a response` };
    if (options.signal.aborted) return { ok: false, status: null, error: 'the server stopped during the attempt' };
    return { ok: false, status: null, error: describeError(err) };
  }
}

/** Sends the request and resolves with the response once its body was read and discarded. */
function send(target: URL, headers: Record<string, string>, body: string, signal: AbortSignal, allowPrivate: boolean): Promise<IncomingMessage> {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body, 'utf8')) },
      // No connection pooling: every attempt resolves and checks the host anew.
      agent: false,
      lookup: guardedLookup(allowPrivate),
      signal,
    });
    req.on('error', reject);
    req.on('response', (response) => {
      // The body is not used; reading it to the end frees the connection.
      response.resume();
      response.on('end', () => resolve(response));
      response.on('error', reject);
      response.on('close', () => {
        if (!response.complete) reject(new Error('the connection closed before the response ended'));
      });
    });
    req.end(body, 'utf8');
  });
}

function describeError(err: unknown): string {
  if (err instanceof WebhookUrlError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
