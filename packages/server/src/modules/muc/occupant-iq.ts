/** IQs to occupant JIDs: self-ping (XEP-0410) and forwarding to the occupant's client (XEP-0045 section 7.2.8 and 17.2). */
import { randomBytes } from 'node:crypto';
import { type Element, type JID, NS, StanzaError, x } from '@parley/xmpp';
import { refuse } from './reply.js';
import type { Room } from './room.js';

interface Pending {
  requester: JID;
  id: string | undefined;
  /** The occupant JID the request was addressed to. */
  target: JID;
  /** The address the request was forwarded to, which alone may reply. */
  forwardedTo: string;
  timer: NodeJS.Timeout;
}

const REPLY_TIMEOUT_MS = 120_000;

/** Forwards IQs between occupants under their occupant JIDs, and routes replies back by a fresh id. */
export class OccupantIqs {
  private readonly pending = new Map<string, Pending>();

  /** Handles a get or set to `room/nick`. */
  request(room: Room, from: JID, nick: string, stanza: Element): void {
    const sender = room.occupants.bySessionJid(from);
    const payload = stanza.elements()[0];
    const ping = payload?.name === 'ping' && payload.ns === NS.PING;
    if (!sender) {
      // XEP-0410 section 3 wants not-acceptable for a ping; XEP-0045 section 6.6 bad-request for other queries.
      refuse(room.host, stanza, new StanzaError(ping ? 'not-acceptable' : 'bad-request', 'You are not an occupant of this room.'));
      return;
    }
    if (sender.nick === nick && ping) {
      room.host.send(replyTo(stanza));
      return;
    }
    const target = room.occupants.byNickname(nick);
    const session = target && [...target.sessions.values()][0];
    if (!target || !session) {
      refuse(room.host, stanza, new StanzaError('item-not-found', `No occupant is called ${nick}.`));
      return;
    }
    // vCards belong to the account (XEP-0045 section 17.2 advises asking the bare JID).
    const to = payload?.ns === NS.VCARD ? target.bare : session;
    const id = randomBytes(9).toString('base64url');
    const timer = setTimeout(() => this.pending.delete(id), REPLY_TIMEOUT_MS);
    timer.unref();
    this.pending.set(id, { requester: from, id: stanza.attr('id'), target: room.occupantJid(nick), forwardedTo: to.toString(), timer });

    const forwarded = stanza.clone();
    forwarded.attrs.id = id;
    forwarded.attrs.from = room.occupantJid(sender.nick).toString();
    forwarded.attrs.to = to.toString();
    room.host.send(forwarded);
  }

  /** Routes a result or error to `room/nick` back to the requester, or drops it when no request matches. */
  reply(room: Room, from: JID, stanza: Element): void {
    const id = stanza.attr('id') ?? '';
    const pending = this.pending.get(id);
    if (!pending || pending.forwardedTo !== from.toString()) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);

    const reply = stanza.clone();
    reply.attrs.id = pending.id ?? '';
    if (pending.id === undefined) delete reply.attrs.id;
    reply.attrs.from = pending.target.toString();
    reply.attrs.to = pending.requester.toString();
    room.host.send(reply);
  }
}

function replyTo(stanza: Element): Element {
  return x('iq', stanza.ns, { type: 'result', id: stanza.attr('id'), from: stanza.attr('to'), to: stanza.attr('from') });
}
