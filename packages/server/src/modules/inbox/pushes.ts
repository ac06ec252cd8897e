/**
 * Pushes of changed inbox entries to the sessions of their account. Only sessions that
 * queried the inbox or enabled pushes get them, because a client that does not know the
 * protocol would show each push as an unknown message.
 */
import { randomBytes } from 'node:crypto';
import type { JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { InboxEntry } from '../../storage/index.js';
import { entryMessage, entryResult } from './render.js';

/** The cluster event that carries an inbox push to the account's sessions on other nodes. */
export const INBOX_PUSH_EVENT = 'inbox/push';

/** The sessions that get pushes, and the sending of them. */
export class InboxPushes {
  private readonly subscribed = new WeakSet<ClientSession>();

  constructor(private readonly server: ServerContext) {}

  subscribe(session: ClientSession): void {
    this.subscribed.add(session);
  }

  unsubscribe(session: ClientSession): void {
    this.subscribed.delete(session);
  }

  /** True when a session of `owner` may get pushes (any session on another node may), so that a changed entry is worth reading back. */
  hasSubscriber(owner: JID): boolean {
    if ((this.server.cluster?.resources(owner).length ?? 0) > 0) return true;
    return this.server.sessions.resources(owner).some((session) => this.subscribed.has(session));
  }

  /** Sends `entry` to every subscribed session of `owner`, on this node and the others. An entry without a message is not listed, so it is not pushed. */
  push(owner: JID, entry: InboxEntry): void {
    if (entry.lastStanzaId === null) return;
    this.pushLocal(owner, entry);
    this.server.cluster
      ?.relayToAccount(INBOX_PUSH_EVENT, owner, JSON.stringify(entry))
      .catch((err: unknown) => this.server.log.warn({ err, owner: owner.toString() }, 'relaying an inbox push to other nodes failed'));
  }

  /** Handles an inbox push another node relayed. */
  receiveRelayed(owner: JID, data: string): void {
    this.pushLocal(owner, JSON.parse(data) as InboxEntry);
  }

  private pushLocal(owner: JID, entry: InboxEntry): void {
    const now = Date.now();
    for (const session of this.server.sessions.resources(owner)) {
      if (!this.subscribed.has(session) || !session.jid) continue;
      session.send(entryMessage(owner, session.jid, randomBytes(9).toString('base64url'), entryResult(entry, now)));
    }
  }
}
