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

  /** True when a session of `owner` gets pushes, so that a changed entry is worth reading back. */
  hasSubscriber(owner: JID): boolean {
    return this.server.sessions.resources(owner).some((session) => this.subscribed.has(session));
  }

  /** Sends `entry` to every subscribed session of `owner`; an entry without a message is not listed, so it is not pushed. */
  push(owner: JID, entry: InboxEntry): void {
    if (entry.lastStanzaId === null) return;
    const now = Date.now();
    for (const session of this.server.sessions.resources(owner)) {
      if (!this.subscribed.has(session) || !session.jid) continue;
      session.send(entryMessage(owner, session.jid, randomBytes(9).toString('base64url'), entryResult(entry, now)));
    }
  }
}
