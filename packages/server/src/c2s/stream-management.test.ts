import { afterEach, describe, expect, it, vi } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { ACK_REQUEST_BATCH, ACK_REQUEST_DELAY_MS, StreamManagement, counterDistance, parseCounter, wrapCounter } from './stream-management.js';

const TOP = 2 ** 32;

function message(n: number) {
  return x('message', NS.CLIENT, { id: `m${n}` });
}

function create(options: { start?: number; maxUnacked?: number } = {}) {
  const requests: number[] = [];
  const sm = new StreamManagement({
    start: options.start ?? 0,
    maxUnacked: options.maxUnacked ?? 100,
    requestAck: () => requests.push(sm.sent),
  });
  return { sm, requests };
}

/** Creates a promise with its resolve and reject functions, for writes that the test settles. */
function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs pending promise callbacks. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('counter arithmetic', () => {
  it('wraps 2^32 to 0', () => {
    expect(wrapCounter(TOP)).toBe(0);
  });

  it('wraps -1 to 2^32 - 1', () => {
    expect(wrapCounter(-1)).toBe(TOP - 1);
  });

  it('measures distance across the wrap', () => {
    expect(counterDistance(TOP - 2, 3)).toBe(5);
  });

  it('parses the largest counter', () => {
    expect(parseCounter('4294967295')).toBe(TOP - 1);
  });

  it('rejects 2^32', () => {
    expect(parseCounter('4294967296')).toBeUndefined();
  });

  it('rejects a negative h', () => {
    expect(parseCounter('-1')).toBeUndefined();
  });

  it('rejects an empty h', () => {
    expect(parseCounter('')).toBeUndefined();
  });
});

describe('outbound queue', () => {
  it('counts what was sent', () => {
    const { sm } = create();
    for (let i = 1; i <= 3; i++) sm.recordSent(message(i));
    expect(sm.sent).toBe(3);
  });

  it('drops acknowledged stanzas', () => {
    const { sm } = create();
    for (let i = 1; i <= 3; i++) sm.recordSent(message(i));
    sm.acknowledge(2);
    expect(sm.pending().map((el) => el.attr('id'))).toEqual(['m3']);
  });

  it('reports an h beyond what was sent', () => {
    const { sm } = create();
    sm.recordSent(message(1));
    sm.recordSent(message(2));
    expect(sm.acknowledge(5)).toEqual({ kind: 'too-high', sendCount: 2 });
  });

  it('ignores an h behind the last one', () => {
    const { sm } = create();
    for (let i = 1; i <= 3; i++) sm.recordSent(message(i));
    sm.acknowledge(3);
    expect(sm.acknowledge(1)).toEqual({ kind: 'stale' });
  });

  it('acknowledges across the wrap', () => {
    const { sm } = create({ start: TOP - 2 });
    for (let i = 1; i <= 5; i++) sm.recordSent(message(i));
    expect(sm.acknowledge(1)).toEqual({ kind: 'acknowledged', count: 3 });
  });

  it('keeps the rest after an ack across the wrap', () => {
    const { sm } = create({ start: TOP - 2 });
    for (let i = 1; i <= 5; i++) sm.recordSent(message(i));
    sm.acknowledge(1);
    expect(sm.pending().map((el) => el.attr('id'))).toEqual(['m4', 'm5']);
  });

  it('sends a count that wrapped', () => {
    const { sm } = create({ start: TOP - 2 });
    for (let i = 1; i <= 5; i++) sm.recordSent(message(i));
    expect(sm.sent).toBe(3);
  });

  it('reports too-high across the wrap', () => {
    const { sm } = create({ start: TOP - 2 });
    for (let i = 1; i <= 5; i++) sm.recordSent(message(i));
    expect(sm.acknowledge(7).kind).toBe('too-high');
  });

  it('reports overflow past maxUnacked', () => {
    const { sm } = create({ maxUnacked: 2 });
    sm.recordSent(message(1));
    sm.recordSent(message(2));
    expect(sm.recordSent(message(3))).toBe(false);
  });

  it('empties the queue for a session that ends', () => {
    const { sm } = create();
    sm.recordSent(message(1));
    sm.takePending();
    expect(sm.unackedCount).toBe(0);
  });
});

describe('inbound counting', () => {
  it('counts a stanza without writes', async () => {
    const { sm } = create();
    sm.stanzaHandled([], () => undefined);
    await sm.counted();
    expect(sm.handledCount).toBe(1);
  });

  it('waits for the tracked write', async () => {
    const { sm } = create();
    const write = deferred();
    sm.stanzaHandled([write.promise], () => undefined);
    await flush();
    expect(sm.handledCount).toBe(0);
  });

  it('counts once the write resolves', async () => {
    const { sm } = create();
    const write = deferred();
    sm.stanzaHandled([write.promise], () => undefined);
    write.resolve();
    await sm.counted();
    expect(sm.handledCount).toBe(1);
  });

  it('does not count a later stanza before an earlier one', async () => {
    const { sm } = create();
    const first = deferred();
    const second = deferred();
    sm.stanzaHandled([first.promise], () => undefined);
    sm.stanzaHandled([second.promise], () => undefined);
    second.resolve();
    await flush();
    expect(sm.handledCount).toBe(0);
  });

  it('counts both once the earlier one resolves', async () => {
    const { sm } = create();
    const first = deferred();
    const second = deferred();
    sm.stanzaHandled([first.promise], () => undefined);
    sm.stanzaHandled([second.promise], () => undefined);
    second.resolve();
    first.resolve();
    await sm.counted();
    expect(sm.handledCount).toBe(2);
  });

  it('does not count a failed write', async () => {
    const { sm } = create();
    sm.stanzaHandled([], () => undefined);
    sm.stanzaHandled([Promise.reject(new Error('disk full'))], () => undefined);
    sm.stanzaHandled([], () => undefined);
    await sm.counted();
    expect(sm.handledCount).toBe(1);
  });

  it('reports a failed write once', async () => {
    const { sm } = create();
    const failures: unknown[] = [];
    sm.stanzaHandled([Promise.reject(new Error('first'))], (err) => failures.push(err));
    sm.stanzaHandled([Promise.reject(new Error('second'))], (err) => failures.push(err));
    await sm.counted();
    expect(failures).toHaveLength(1);
  });

  it('counts again after a reset', async () => {
    const { sm } = create();
    sm.stanzaHandled([Promise.reject(new Error('disk full'))], () => undefined);
    await sm.counted();
    sm.resetAfterFailure();
    sm.stanzaHandled([], () => undefined);
    await sm.counted();
    expect(sm.handledCount).toBe(1);
  });

  it('answers with the count of everything before', async () => {
    const { sm } = create();
    const write = deferred();
    const answers: number[] = [];
    sm.stanzaHandled([write.promise], () => undefined);
    sm.whenCounted(() => answers.push(sm.handledCount));
    write.resolve();
    await sm.counted();
    expect(answers).toEqual([1]);
  });

  it('wraps h at 2^32', async () => {
    const { sm } = create({ start: TOP - 1 });
    sm.stanzaHandled([], () => undefined);
    sm.stanzaHandled([], () => undefined);
    await sm.counted();
    expect(sm.handledCount).toBe(1);
  });
});

describe('ack requests', () => {
  it('asks after a batch of stanzas', () => {
    const { sm, requests } = create();
    for (let i = 1; i <= ACK_REQUEST_BATCH; i++) sm.recordSent(message(i));
    expect(requests).toEqual([ACK_REQUEST_BATCH]);
  });

  it('asks after a delay for one stanza', () => {
    vi.useFakeTimers();
    const { sm, requests } = create();
    sm.recordSent(message(1));
    vi.advanceTimersByTime(ACK_REQUEST_DELAY_MS);
    expect(requests).toEqual([1]);
  });

  it('does not ask while disconnected', () => {
    vi.useFakeTimers();
    const { sm, requests } = create();
    sm.disconnect();
    sm.recordSent(message(1));
    vi.advanceTimersByTime(ACK_REQUEST_DELAY_MS);
    expect(requests).toEqual([]);
  });

  it('asks at once on reconnect when stanzas wait', () => {
    const { sm, requests } = create();
    sm.disconnect();
    sm.recordSent(message(1));
    sm.reconnect();
    expect(requests).toEqual([1]);
  });
});
