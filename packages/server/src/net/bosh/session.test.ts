import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Element, NS, parseFrame, x } from '@parley/xmpp';
import type { TransportEvents } from '../../c2s/transport.js';
import { BoshSession } from './session.js';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';

function body(attrs: Record<string, string | number>, ...children: Element[]): Element {
  return x('body', NS_HTTPBIND, attrs, ...children);
}

function parse(text: string): Element {
  return parseFrame(text, { maxStanzaBytes: 1_000_000 });
}

/** A BOSH session with hold 1, acknowledgements on, whose stream events are recorded. */
function startSession() {
  const received: Element[] = [];
  const closed: string[] = [];
  const session = new BoshSession({
    sid: 'sid-1',
    domain: 'example.test',
    remoteAddress: '127.0.0.1',
    secure: false,
    waitS: 30,
    hold: 1,
    inactivityS: 60,
    pollingS: 2,
    maxStanzaBytes: 10_000,
    acks: true,
    onGone: () => undefined,
  });
  const events: TransportEvents = {
    streamStart: () => session.send(x('features', NS.STREAM)),
    element: (element) => received.push(element),
    streamEnd: () => undefined,
    parseError: () => undefined,
    closed: (reason) => closed.push(reason),
  };
  session.attach(events);
  const responses = new Map<number, string>();
  const request = (rid: number, attrs: Record<string, string | number> = {}, ...children: Element[]) =>
    session.handle(body({ rid, sid: 'sid-1', ...attrs }, ...children), 100, (text) => responses.set(rid, text));
  session.start(body({ rid: 1, to: 'example.test', 'xmlns:xmpp': 'urn:xmpp:xbosh', 'xmpp:version': '1.0' }), 1, (text) => responses.set(1, text));
  return { session, received, closed, responses, request };
}

describe('BoshSession', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports a response the client has not acknowledged', async () => {
    vi.useFakeTimers();
    const { session, responses, request } = startSession();
    await vi.advanceTimersByTimeAsync(1);
    expect(parse(responses.get(1)!).attr('ack')).toBe('1');

    request(2);
    request(3, {}, x('message', NS.CLIENT, { to: 'bob@example.test' }));
    expect(responses.has(2)).toBe(true);
    await vi.advanceTimersByTimeAsync(2500);

    request(4, { ack: 1 });
    expect(responses.has(3)).toBe(true);
    session.send(x('message', NS.CLIENT, { from: 'bob@example.test' }));
    await vi.advanceTimersByTimeAsync(1);
    const reported = parse(responses.get(4)!);
    expect(reported.attr('report')).toBe('2');
    expect(Number(reported.attr('time'))).toBeGreaterThanOrEqual(2500);
  });

  it('passes payloads on in rid order', async () => {
    vi.useFakeTimers();
    const { received, request } = startSession();
    await vi.advanceTimersByTimeAsync(1);

    request(3, {}, x('message', NS.CLIENT, { id: 'second' }));
    expect(received).toHaveLength(0);
    request(2, {}, x('message', NS.CLIENT, { id: 'first' }));
    expect(received.map((element) => element.attr('id'))).toEqual(['first', 'second']);
  });

  it('ends the session after the inactivity period', async () => {
    vi.useFakeTimers();
    const { closed } = startSession();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(closed).toEqual(['BOSH session inactive']);
  });

  it('moves stanzas without a namespace into jabber:client', async () => {
    vi.useFakeTimers();
    const { received, request } = startSession();
    await vi.advanceTimersByTimeAsync(1);
    request(2, {}, x('message', NS_HTTPBIND, { id: 'bare' }, x('body', NS_HTTPBIND, {}, 'hi')));
    expect(received[0]?.ns).toBe(NS.CLIENT);
    expect(received[0]?.getChild('body')?.ns).toBe(NS.CLIENT);
  });
});
