/**
 * The account outbox: how account changes that parleyctl makes without a running server
 * reach the server's modules. parleyctl fires its account events into hooks that append
 * them to `account_outbox`. The server replays the rows in order through its own hooks when
 * it starts, so the directory, vCard sync, shared rosters and webhooks handle them as they
 * handle live changes.
 */
import type { Logger } from 'pino';

import { Hooks } from '../core/hooks.js';
import type { ServerEvents } from '../core/events.js';
import type { Storage } from '../storage/index.js';

/** The events account changes fire; all carry plain JSON data. */
export const OUTBOX_EVENTS = [
  'account/created',
  'account/updated',
  'account/disabled',
  'account/enabled',
  'account/deleted',
  'account/registered',
  'org/group-changed',
] as const satisfies readonly (keyof ServerEvents)[];

type OutboxEvent = (typeof OUTBOX_EVENTS)[number];

/** Rows read per step of a replay. */
const REPLAY_BATCH = 200;

/** The server parts a replay uses. */
export interface ReplayContext {
  storage: Storage;
  hooks: Hooks<ServerEvents>;
  log: Pick<Logger, 'info' | 'error'>;
}

/**
 * Creates hooks for an AccountContext without a running server. Every account event fired
 * into them is appended to the outbox after the change it reports was committed.
 * NOTE: the append is a write of its own, so a crash between the commit and the append
 * loses that event (the directory still indexes missing accounts at start).
 */
export function outboxHooks(storage: Storage, log: Logger): Hooks<ServerEvents> {
  const hooks = new Hooks<ServerEvents>(log);
  for (const event of OUTBOX_EVENTS) {
    hooks.on(event, async (payload) => {
      await storage.accountOutbox.append(event, payload);
    });
  }
  return hooks;
}

const replays = new WeakMap<object, Promise<number>>();

/**
 * Fires every event in the outbox through the server's hooks, oldest first, and deletes
 * each row once its handlers ran. Replays of one server run one after another, so no row
 * is fired twice. Resolves to the number of events replayed.
 */
export function replayOutbox(server: ReplayContext): Promise<number> {
  const previous = replays.get(server) ?? Promise.resolve(0);
  const next = previous.catch(() => 0).then(() => drain(server));
  replays.set(server, next);
  return next;
}

async function drain(server: ReplayContext): Promise<number> {
  let replayed = 0;
  for (;;) {
    const entries = await server.storage.accountOutbox.next(REPLAY_BATCH);
    if (entries.length === 0) break;
    for (const entry of entries) {
      await fireEntry(server, entry.event, entry.payload);
      await server.storage.accountOutbox.delete(entry.id);
      replayed++;
    }
  }
  if (replayed > 0) server.log.info({ replayed }, 'replayed account events that parleyctl recorded');
  return replayed;
}

/**
 * Fires one recorded event. A handler that fails is logged and the event is not tried
 * again, as with a live event, so one bad row cannot stop every later start.
 */
async function fireEntry(server: ReplayContext, event: string, payload: unknown): Promise<void> {
  if (!(OUTBOX_EVENTS as readonly string[]).includes(event)) {
    server.log.error({ event }, 'dropped an unknown event from the account outbox');
    return;
  }

  try {
    await server.hooks.fire(event as OutboxEvent, payload as ServerEvents[OutboxEvent]);
  } catch (err) {
    server.log.error({ err, event }, 'a handler failed on a replayed account event');
  }
}
