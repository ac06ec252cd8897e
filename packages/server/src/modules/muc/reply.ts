import { randomUUID } from 'node:crypto';
import { type Element, StanzaError, errorReply, x } from '@parley/xmpp';
import { validateRequest } from '../../core/iq.js';
import type { RoomHost } from './host.js';

/** Sends the error reply to `stanza` from the address it was sent to (RFC 6120 8.3.1), unless `stanza` is an error itself. */
export function refuse(host: Pick<RoomHost, 'send'>, stanza: Element, error: StanzaError): void {
  if (stanza.attr('type') === 'error') return;
  host.send(errorReply(stanza, error));
}

/** An IQ result followed by work whose stanzas must reach the requester after the result. */
export class ThenApply {
  constructor(
    readonly result: Element | undefined,
    readonly after: () => Promise<void>,
  ) {}
}

export type IqOutcome = Element | undefined | ThenApply;

/**
 * Validates an IQ get or set, runs `handler` and sends the result, or the error it threw.
 * Anything but a StanzaError is logged under an incident id that the error text repeats.
 */
export async function answerIq(host: Pick<RoomHost, 'send' | 'log'>, stanza: Element, handler: (payload: Element) => Promise<IqOutcome> | IqOutcome): Promise<void> {
  const type = stanza.attr('type');
  if (type === 'result' || type === 'error') return;
  const invalid = validateRequest(stanza);
  if (invalid) return refuse(host, stanza, invalid);
  let outcome: IqOutcome;
  try {
    outcome = await handler(stanza.elements()[0]!);
  } catch (err) {
    if (err instanceof StanzaError) return refuse(host, stanza, err);
    const incident = randomUUID();
    host.log.error({ err, incident }, 'MUC IQ handler failed');
    host.send(errorReply(stanza, new StanzaError('internal-server-error', `Internal error ${incident}.`)));
    return;
  }
  const payload = outcome instanceof ThenApply ? outcome.result : outcome;
  host.send(x('iq', stanza.ns, { type: 'result', id: stanza.attr('id'), from: stanza.attr('to'), to: stanza.attr('from') }, payload));
  // The result is sent, so a failure from here on can only be logged.
  if (outcome instanceof ThenApply) await outcome.after().catch((err: unknown) => host.log.error({ err }, 'applying a MUC change failed'));
}
