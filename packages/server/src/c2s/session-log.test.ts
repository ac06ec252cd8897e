import { Writable } from 'node:stream';

import { type Bindings, type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { LazyLog } from './session-log.js';

/** Returns a pino logger at `level` that keeps its lines, and counts the child loggers made from it. */
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, sink);
  const counter = { children: 0 };
  const child = logger.child;
  // Children inherit this property, so it must call pino's own child on whichever logger it is called.
  logger.child = function (this: Logger, bindings: Bindings) {
    counter.children++;
    return child.call(this, bindings);
  } as typeof logger.child;
  return { logger, lines, counter };
}

describe('LazyLog', () => {
  it('makes no pino child when silent', () => {
    const { logger, lines, counter } = capture('warn');
    const log = new LazyLog(logger, { session: 's1' }).child({ jid: 'a@example.test/r' });
    log.info('connection opened');
    log.debug({ detail: 1 }, 'details');
    expect(counter.children).toBe(0);
    expect(lines).toHaveLength(0);
  });

  it('writes every binding of the chain', async () => {
    const { logger, lines } = capture('info');
    const log = new LazyLog(logger, { session: 's1' }).child({ jid: 'a@example.test/r' });
    log.info({ user: 'a' }, 'authenticated');
    log.warn('plain message');
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ session: 's1', jid: 'a@example.test/r', user: 'a', msg: 'authenticated', level: 30 });
    expect(lines[1]).toMatchObject({ session: 's1', jid: 'a@example.test/r', msg: 'plain message', level: 40 });
  });

  it('follows a level change of the root logger', () => {
    const { logger, lines } = capture('warn');
    const log = new LazyLog(logger, { session: 's2' });
    log.info('hidden');
    logger.level = 'info';
    log.info('shown');
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });
});
