import { NS, x } from '@parley/xmpp';
import type { DialbackKeys } from './dialback-key.js';
import { NegotiationError } from './inbox.js';
import { type OpenedStream, restartStream, unexpected } from './connector.js';
import { S2S_NS } from './namespaces.js';
import { externalAuth, offersExternal } from './sasl-external.js';

export type AuthMethod = 'sasl-external' | 'dialback';

/**
 * Authenticates an opened outgoing stream as `local`. SASL EXTERNAL is used when the receiving
 * server offers it, which it does only when it trusts our certificate for `local`. Otherwise
 * Server Dialback (XEP-0220) sends a key made for the receiving server's stream id.
 */
export async function authenticateOutgoing(opened: OpenedStream, keys: DialbackKeys, local: string, remote: string, deadline: number): Promise<AuthMethod> {
  const { stream, inbox } = opened;
  if (stream.secure && offersExternal(opened.features)) {
    stream.send(externalAuth(local));
    const outcome = await inbox.next('the SASL outcome', deadline - Date.now());
    if (outcome.name === 'success' && outcome.ns === NS.SASL) {
      stream.restart();
      await restartStream(stream, inbox, local, remote, deadline);
      return 'sasl-external';
    }
    if (outcome.name !== 'failure' || outcome.ns !== NS.SASL) throw unexpected(remote, outcome, 'the SASL outcome');
    // A failed EXTERNAL leaves the stream open; dialback is the fallback (XEP-0178).
  }

  if (!opened.features.getChild('dialback', S2S_NS.DIALBACK_FEATURE)) {
    throw new NegotiationError(`${remote} offers neither SASL EXTERNAL for ${local} nor Server Dialback`);
  }
  const key = keys.generate(remote, local, opened.streamId);
  stream.send(x('result', S2S_NS.DIALBACK, { from: local, to: remote }, key));
  return awaitDialbackResult(opened, local, remote, deadline);
}

async function awaitDialbackResult(opened: OpenedStream, local: string, remote: string, deadline: number): Promise<AuthMethod> {
  const result = await opened.inbox.next('the dialback result', deadline - Date.now());
  if (result.name !== 'result' || result.ns !== S2S_NS.DIALBACK) throw unexpected(remote, result, 'the dialback result');
  const type = result.attr('type');
  if (type === 'valid') return 'dialback';
  if (type === 'invalid') throw new NegotiationError(`${remote} did not accept our dialback key for ${local}`);
  const condition = result.getChild('error', NS.SERVER)?.getChildByNs(NS.STANZAS)?.name ?? result.getChild('error')?.elements()[0]?.name;
  throw new NegotiationError(`${remote} answered dialback with type ${type ?? 'none'}${condition ? ` (${condition})` : ''}`);
}
