import { type Element, NS, readStanzaErrorCondition, serialize, x } from '@parley/xmpp';
import type { TestClient } from './client.js';
import type { RawConnection } from './raw.js';
import type { TestServer } from './server.js';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
export const UPLOAD_DOMAIN = 'upload.example.test';

/** A slot as a client reads it from the result. */
export interface TestSlot {
  putUrl: string;
  getUrl: string;
  authorization: string;
}

/** Sends a slot request; attributes that are undefined are left out. */
export function requestSlot(client: TestClient, attrs: { filename?: string; size?: number | string; 'content-type'?: string }, to = UPLOAD_DOMAIN): Promise<Element> {
  const request = x('request', NS_UPLOAD, { filename: attrs.filename, size: attrs.size === undefined ? undefined : String(attrs.size), 'content-type': attrs['content-type'] });
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, request));
}

/** Requests a slot and fails the test when the service refuses. */
export async function slotFor(client: TestClient, filename: string, size: number, contentType?: string): Promise<TestSlot> {
  const reply = await requestSlot(client, { filename, size, 'content-type': contentType });
  return readSlot(reply);
}

export function readSlot(reply: Element): TestSlot {
  const slot = reply.getChild('slot', NS_UPLOAD);
  if (reply.attr('type') !== 'result' || !slot) throw new Error(`no slot: ${reply.toString()}`);
  const put = slot.getChild('put', NS_UPLOAD)!;
  const header = put.getChild('header', NS_UPLOAD);
  if (header?.attr('name') !== 'Authorization') throw new Error(`slot without Authorization header: ${reply.toString()}`);
  return { putUrl: put.attr('url')!, getUrl: slot.getChild('get', NS_UPLOAD)!.attr('url')!, authorization: header.text() };
}

/** Returns the stanza error condition of a reply, or undefined. */
export function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

/** Rewrites a slot URL, which names the XMPP domain, to the test server's HTTP listener on 127.0.0.1. */
export function local(server: TestServer, url: string): string {
  const parsed = new URL(url);
  return `http://127.0.0.1:${server.httpPort}${parsed.pathname}${parsed.search}`;
}

/** PUTs `body` into the slot with its header and the given content type. */
export function putFile(server: TestServer, slot: TestSlot, body: Uint8Array, contentType = 'application/octet-stream', headers: Record<string, string> = {}): Promise<Response> {
  return fetch(local(server, slot.putUrl), {
    method: 'PUT',
    body,
    headers: { Authorization: slot.authorization, 'Content-Type': contentType, ...headers },
  });
}

/** Requests a slot, uploads `body` and returns the slot; fails the test unless the PUT gets 201. */
export async function upload(server: TestServer, client: TestClient, filename: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<TestSlot> {
  const slot = await slotFor(client, filename, body.length, contentType);
  const response = await putFile(server, slot, body, contentType);
  if (response.status !== 201) throw new Error(`upload of ${filename} got ${response.status}: ${await response.text()}`);
  return slot;
}

/** Sends an IQ from an address of a connected component and returns the reply. */
export async function componentIq(component: RawConnection, iq: Element, id: string): Promise<Element> {
  iq.attrs.id = id;
  component.write(serialize(iq, NS.COMPONENT));
  return component.next((el) => el.name === 'iq' && el.attr('id') === id, 3000);
}
