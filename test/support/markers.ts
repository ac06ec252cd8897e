/** Helpers for chat marker (XEP-0333), displayed synchronization (XEP-0490) and group read receipt tests. */
import { type Element, NS, x } from '@parley/xmpp';
import type { ReadPositionEvent } from '../../packages/server/src/core/events.js';
import type { TestClient } from './client.js';
import type { TestServer } from './server.js';

export const NS_MARKERS = 'urn:xmpp:chat-markers:0';
export const NS_MDS = 'urn:xmpp:mds:displayed:0';
export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_GROUP_RECEIPTS = 'urn:parley:group-receipts:0';

export type MarkerKind = 'received' | 'displayed' | 'acknowledged';

/** Builds a chat message with a body that requests markers. */
export function markableChat(to: string, body: string, id: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id }, x('body', NS.CLIENT, {}, body), x('markable', NS_MARKERS));
}

/** Builds a message that carries only a marker for the message `id`. */
export function marker(to: string, kind: MarkerKind, id: string, type = 'chat'): Element {
  return x('message', NS.CLIENT, { type, to, id: `${kind}-${id}` }, x(kind, NS_MARKERS, { id }));
}

/** Returns a predicate for a message (not a carbon) carrying marker `kind` for `id`. */
export function isMarker(kind: MarkerKind, id: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChild(kind, NS_MARKERS)?.attr('id') === id;
}

/** Returns a predicate for a carbon copy (`sent` or `received`) of a marker. */
export function isMarkerCopy(direction: 'sent' | 'received', kind: MarkerKind, id: string): (el: Element) => boolean {
  return (el) => {
    const inner = el.getChild(direction, NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message', NS.CLIENT);
    return inner !== undefined && isMarker(kind, id)(inner);
  };
}

/** Returns the `<stanza-id/>` value that `by` gave the message. */
export function stanzaIdBy(message: Element, by: string): string | undefined {
  return message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === by)?.attr('id');
}

export function enableCarbons(client: TestClient): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)));
}

/** Records every `read/position` event of the running server, as it is fired. */
export function recordPositions(server: TestServer): ReadPositionEvent[] {
  const events: ReadPositionEvent[] = [];
  server.server.hooks.on('read/position', (event) => {
    events.push(event);
  }, { priority: 10_000, owner: 'test' });
  return events;
}

/** Polls `check` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Builds the `<displayed/>` payload of XEP-0490 for a position. */
export function displayed(id: string, by: string): Element {
  return x('displayed', NS_MDS, {}, x('stanza-id', NS.STANZA_ID, { id, by }));
}

/** Reads the position in a `<displayed/>` payload. */
export function positionOf(payload: Element | undefined): { id?: string; by?: string } | undefined {
  const stanzaId = payload?.getChild('stanza-id', NS.STANZA_ID);
  return stanzaId === undefined ? undefined : { id: stanzaId.attr('id'), by: stanzaId.attr('by') };
}
