/**
 * Sends notifications to app servers and handles their replies. XEP-0357 section 7.1 lets
 * a server disable a registration after an error reply and keep it after a transient one. A
 * permanent error (item-not-found, not-authorized, forbidden and any other condition not
 * listed as transient below) removes the registration at once. Transient errors and
 * timeouts remove it after `max_failures` of them in a row, and a success resets the count.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type Element, JID, readStanzaErrorCondition } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { type PushSummary, notificationIq } from './notification.js';
import { type PushRegistry, deviceKey } from './registry.js';
import type { PushRegistration } from './store.js';

/** Conditions that indicate the app server or the route to it is down for now, not that the node is gone. */
const TRANSIENT_CONDITIONS: ReadonlySet<string> = new Set([
  'remote-server-not-found',
  'remote-server-timeout',
  'service-unavailable',
  'internal-server-error',
  'resource-constraint',
]);

interface PendingPublish {
  account: JID;
  registration: PushRegistration;
  timer: NodeJS.Timeout;
}

/** The app server's reply to one publish, or its timeout. */
type Outcome = { kind: 'result' } | { kind: 'error'; condition: string; type: string } | { kind: 'timeout' };

function outcomeOf(reply: Element): Outcome {
  if (reply.attr('type') === 'result') return { kind: 'result' };
  const error = reply.getChild('error');
  const condition = (error && readStanzaErrorCondition(error)) ?? 'undefined-condition';
  return { kind: 'error', condition, type: error?.attr('type') ?? 'cancel' };
}

function isPermanent(outcome: Outcome): boolean {
  return outcome.kind === 'error' && outcome.type !== 'wait' && !TRANSIENT_CONDITIONS.has(outcome.condition);
}

export class PushPublisher {
  /** Publishes waiting for their reply, by IQ id. */
  private readonly pending = new Map<string, PendingPublish>();
  /** Transient failures in a row, by account and device. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
    private readonly registry: PushRegistry,
    private readonly options: { timeoutMs: number; maxFailures: number },
  ) {
    registry.onRemoved((account, key) => this.failures.delete(failureKey(account, key)));
  }

  /** Sends the notification; the reply arrives through handleReply. */
  publish(account: JID, registration: PushRegistration, summary: PushSummary): void {
    const id = `push-${randomBytes(12).toString('base64url')}`;
    const from = account.bare().toString();
    const iq = notificationIq({ id, from, service: registration.service, node: registration.node, summary, publishOptions: registration.publishOptions });

    const timer = setTimeout(() => this.settle(id, { kind: 'timeout' }), this.options.timeoutMs);
    timer.unref();
    this.pending.set(id, { account, registration, timer });
    this.log.debug({ account: from, service: registration.service, count: summary.messageCount }, 'push notification sent');
    this.server.router.route(iq, account.bare(), JID.parse(registration.service)).catch((err: unknown) => {
      this.log.error({ err, account: from, service: registration.service }, 'routing a push notification failed');
    });
  }

  /**
   * Handles 'iq/bare': claims the result or error that an app server sent back to a
   * publish. Only the app server the publish went to may reply to it.
   */
  handleReply(event: StanzaEvent): boolean {
    const { stanza } = event;
    const type = stanza.attr('type');
    const id = stanza.attr('id');
    if ((type !== 'result' && type !== 'error') || id === undefined) return false;

    const pending = this.pending.get(id);
    if (pending === undefined) return false;
    if (!event.to.bare().equals(pending.account.bare()) || event.from.toString() !== pending.registration.service) return false;
    this.settle(id, outcomeOf(stanza));
    return true;
  }

  private settle(id: string, outcome: Outcome): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);

    const key = failureKey(pending.account, deviceKey(pending.registration));
    if (outcome.kind === 'result') {
      this.failures.delete(key);
      return;
    }
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    if (isPermanent(outcome) || failures >= this.options.maxFailures) this.disable(pending, outcome, failures);
  }

  private disable(pending: PendingPublish, outcome: Outcome, failures: number): void {
    const { account, registration } = pending;
    const reason = outcome.kind === 'error' ? outcome.condition : 'timeout';
    this.log.info({ account: account.toString(), service: registration.service, reason, failures }, 'push registration removed after failed notifications');
    this.registry.remove(account, registration.service, registration.node).catch((err: unknown) => {
      this.log.error({ err, account: account.toString(), service: registration.service }, 'removing a failed push registration failed');
    });
  }
}

function failureKey(account: JID, key: string): string {
  return `${account.bare().toString()}\u0000${key}`;
}
