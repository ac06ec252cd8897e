import type { XElement } from '../xmpp/index.js';
import { NS } from './ns.js';
import type { ReceiptRecord } from './types.js';

/** Reads a `urn:parley:group-receipts:0` result. Members are bare JIDs, or nicks when the room hides JIDs. */
export function readGroupReceipts(reply: XElement, room: string, stanzaId: string, now: number): ReceiptRecord {
  const query = reply.getChild('query', NS.GROUP_RECEIPTS);
  const names = (name: string): string[] => (query?.getChildren(name, NS.GROUP_RECEIPTS) ?? []).map((member) => member.attr('jid') ?? member.attr('nick') ?? '');
  return { room, stanzaId, read: names('read'), unread: names('unread'), fetchedAt: now };
}
