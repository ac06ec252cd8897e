import { type Element, JID, NS, StreamError, x } from '@parley/xmpp';
import { verifyDialbackKey } from './dialback-verify.js';
import type { IncomingHost } from './incoming-host.js';
import { S2S_NS } from './namespaces.js';

/** The parts of an incoming stream that dialback reads and changes. */
export interface DialbackStream {
  readonly streamId: string;
  send(element: Element): void;
  /** Records that `remote` may send stanzas to `local` on this stream. */
  authorize(remote: string, local: string, method: 'dialback'): void;
  isAuthorized(remote: string, local: string): boolean;
  /** Closes the stream when no domain pair is authenticated on it. */
  closeUnlessAuthorized(error: StreamError): void;
}

/**
 * `<db:result/>` on an incoming stream (XEP-0220): the originating server claims
 * a domain. The claim is checked with the domain's authoritative server over a separate
 * stream, and the outcome goes back as `<db:result type='valid|invalid|error'/>`.
 */
export async function handleDialbackResult(host: IncomingHost, stream: DialbackStream, element: Element): Promise<void> {
  const remote = domainOf(element.attr('from'));
  const local = domainOf(element.attr('to'));
  if (!remote || !local) throw new StreamError('improper-addressing', '<db:result/> needs "from" and "to" domains.');
  const answer = (type: string, ...children: Element[]) => stream.send(x('result', S2S_NS.DIALBACK, { from: local, to: remote, type }, ...children));

  if (!host.serves(local)) return answer('error', dialbackError('item-not-found', `This server does not serve ${local}.`));
  if (!host.policy.allows(remote)) return answer('error', dialbackError('forbidden', `This server does not federate with ${remote}.`));
  if (stream.isAuthorized(remote, local)) return answer('valid');

  const deadline = Date.now() + host.config.s2s.connect_timeout_s * 1000;
  let outcome: 'valid' | 'invalid';
  try {
    outcome = await verifyDialbackKey(host, { receiving: local, originating: remote, streamId: stream.streamId, key: element.text() }, deadline);
  } catch (err) {
    host.log.info({ remote, local, err: (err as Error).message }, 'dialback verification could not reach the authoritative server');
    answer('error', dialbackError('remote-server-not-found', `The authoritative server of ${remote} could not be reached.`));
    stream.closeUnlessAuthorized(new StreamError('remote-connection-failed', `The authoritative server of ${remote} could not be reached.`));
    return;
  }

  if (outcome === 'valid') {
    stream.authorize(remote, local, 'dialback');
    answer('valid');
    return;
  }
  host.log.info({ remote, local }, 'dialback key rejected by the authoritative server');
  answer('invalid');
  stream.closeUnlessAuthorized(new StreamError('not-authorized', `The dialback key for ${remote} is not valid.`));
}

/**
 * `<db:verify/>` on an incoming stream (XEP-0220): a receiving server checks
 * whether a key it received claiming our domain is one we made. `to` is our domain, `from` the receiving server's.
 */
export function handleDialbackVerify(host: IncomingHost, stream: Pick<DialbackStream, 'send'>, element: Element): void {
  const receiving = domainOf(element.attr('from'));
  const originating = domainOf(element.attr('to'));
  const id = element.attr('id');
  if (!receiving || !originating || id === undefined) throw new StreamError('improper-addressing', '<db:verify/> needs "from", "to" and "id".');

  const valid = host.serves(originating) && host.keys.verify(receiving, originating, id, element.text());
  stream.send(x('verify', S2S_NS.DIALBACK, { from: originating, to: receiving, id, type: valid ? 'valid' : 'invalid' }));
}

/** Builds the dialback error child (XEP-0220), a stanza error in jabber:server. */
function dialbackError(condition: string, text: string): Element {
  return x('error', NS.SERVER, { type: 'cancel' }, x(condition, NS.STANZAS), x('text', NS.STANZAS, { 'xml:lang': 'en' }, text));
}

/** Returns the domain in `text` when it is a bare domain JID, else undefined. */
export function domainOf(text: string | undefined): string | undefined {
  const jid = JID.parseOrNull(text ?? '');
  if (!jid || jid.local !== '' || jid.resource !== '') return undefined;
  return jid.domain;
}
