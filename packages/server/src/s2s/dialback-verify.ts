import { x } from '@parley/xmpp';
import { type ConnectorContext, openOutgoingStream, unexpected } from './connector.js';
import { S2S_NS } from './namespaces.js';

/** Outcome of a db:verify, as the authoritative server reports it. */
export type VerifyOutcome = 'valid' | 'invalid';

/**
 * Asks the authoritative server of `originating` whether `key` is the key it made for a stream
 * from `originating` to `receiving` with `streamId` (XEP-0220). The request goes
 * over a stream of its own, which is closed afterwards. Rejects when the server cannot be
 * reached or does not reply before `deadline` (a Date.now() value).
 */
export async function verifyDialbackKey(
  ctx: ConnectorContext,
  request: { receiving: string; originating: string; streamId: string; key: string },
  deadline: number,
): Promise<VerifyOutcome> {
  const { receiving, originating, streamId, key } = request;
  const opened = await openOutgoingStream(ctx, receiving, originating, deadline);
  try {
    opened.stream.send(x('verify', S2S_NS.DIALBACK, { from: receiving, to: originating, id: streamId }, key));
    for (;;) {
      const reply = await opened.inbox.next('the dialback verify reply', deadline - Date.now());
      if (reply.name !== 'verify' || reply.ns !== S2S_NS.DIALBACK) throw unexpected(originating, reply, 'the dialback verify reply');
      if (reply.attr('id') !== streamId) continue;
      return reply.attr('type') === 'valid' ? 'valid' : 'invalid';
    }
  } finally {
    opened.stream.closeStream();
  }
}
