/**
 * The pending summary of each device and the rate limit of its notifications. A device gets
 * at most one notification per `min_interval_ms`. A message that arrives sooner is not
 * dropped: it updates the summary, and one notification at the end of the interval carries
 * the count and the last sender of everything since.
 */
import type { JID } from '@parley/xmpp';
import type { PushContent } from './importance.js';
import type { PushSummary } from './notification.js';
import { deviceKey } from './registry.js';
import type { PushRegistration } from './store.js';

export type SendNotification = (account: JID, registration: PushRegistration, summary: PushSummary) => void;

interface DeviceState {
  account: JID;
  registration: PushRegistration;
  count: number;
  sender: string;
  body: string | undefined;
  lastSentAt: number;
  /** The notification waiting for the end of the interval, if one is. */
  timer: NodeJS.Timeout | undefined;
}

function stateKey(account: JID, key: string): string {
  return `${account.toString()}\u0000${key}`;
}

export class PushSummaries {
  private readonly devices = new Map<string, DeviceState>();

  constructor(
    private readonly options: { minIntervalMs: number; includeBody: boolean },
    private readonly send: SendNotification,
  ) {}

  /** Counts a message for the device of `registration` and sends or schedules its notification. */
  add(account: JID, registration: PushRegistration, sender: string, content: PushContent): void {
    const key = stateKey(account, deviceKey(registration));
    let state = this.devices.get(key);
    if (state === undefined) {
      state = { account, registration, count: 0, sender, body: undefined, lastSentAt: 0, timer: undefined };
      this.devices.set(key, state);
    }
    state.registration = registration;
    state.count++;
    state.sender = sender;
    state.body = this.options.includeBody ? content.body : undefined;
    if (state.timer !== undefined) return;

    const wait = state.lastSentAt + this.options.minIntervalMs - Date.now();
    if (wait <= 0) {
      this.flush(state);
      return;
    }
    const scheduled = state;
    state.timer = setTimeout(() => {
      scheduled.timer = undefined;
      this.flush(scheduled);
    }, wait);
    state.timer.unref();
  }

  /** Starts the device's count again, because its client is connected and has seen everything. */
  reset(account: JID, key: string): void {
    this.forget(account, key);
  }

  /** Drops the device's state and any notification it had waiting. */
  forget(account: JID, key: string): void {
    const state = this.devices.get(stateKey(account, key));
    if (state === undefined) return;
    clearTimeout(state.timer);
    this.devices.delete(stateKey(account, key));
  }

  private flush(state: DeviceState): void {
    state.lastSentAt = Date.now();
    this.send(state.account, state.registration, { messageCount: state.count, lastSender: state.sender, lastBody: state.body });
  }
}
