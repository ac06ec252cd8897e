/** Dispatches the stanzas addressed to a room or to one of its occupants. */
import { type Element, StanzaError } from '@parley/xmpp';
import type { StanzaEvent } from '../../core/events.js';
import { isInvitation, handleInvitation } from './invite.js';
import { join, refuseUnjoined, rejoin } from './join.js';
import { MUC_NS } from './ns.js';
import { leave } from './leave.js';
import { handleGroupchat, trackWrite } from './messages.js';
import { changeNick, updatePresence } from './nick.js';
import { handlePrivateMessage } from './private.js';
import { answerIq, refuse } from './reply.js';
import type { Room } from './room.js';
import { handleRoomIq } from './room-iq.js';
import { handleRequestForm, requestForm } from './voice.js';

/** Runs inside the room's queue. `created` is true for the presence that created the room. */
export async function handleRoomStanza(room: Room, event: StanzaEvent, created: boolean): Promise<void> {
  if (room.destroyed) {
    refuse(room.host, event.stanza, new StanzaError('item-not-found', 'The room no longer exists.'));
    return;
  }
  if (event.stanza.name === 'presence') return handlePresence(room, event, created);
  if (event.stanza.name === 'message') return handleMessage(room, event);
  if (event.stanza.name === 'iq') return handleIq(room, event);
}

async function handlePresence(room: Room, event: StanzaEvent, created: boolean): Promise<void> {
  const { stanza, from, to } = event;
  const type = stanza.attr('type');
  // An error presence from an occupant's client means the client is gone, so it leaves.
  if (type === 'unavailable' || type === 'error') return leave(room, from, type === 'unavailable' ? stanza : undefined);
  if (type !== undefined) return;
  if (to.resource === '') {
    refuse(room.host, stanza, new StanzaError('jid-malformed', 'Join a room with a nickname: room@service/nick.'));
    return;
  }
  const occupant = room.occupants.bySessionJid(from);
  const joining = stanza.getChild('x', MUC_NS.MUC) !== undefined;
  if (!occupant && !joining) return refuseUnjoined(room.host, to, from);
  if (!occupant) return join(room, from, to.resource, stanza, created);
  if (occupant.nick === to.resource) return joining ? rejoin(room, occupant, from, stanza) : updatePresence(room, occupant, stanza);
  changeNick(room, occupant, from, to.resource, stanza);
}

async function handleMessage(room: Room, event: StanzaEvent): Promise<void> {
  const { stanza, from, to } = event;
  if (to.resource !== '') return handlePrivateMessage(room, from, to.resource, stanza);
  const type = stanza.attr('type') ?? 'normal';
  if (type === 'error') return;
  if (type === 'groupchat') return handleGroupchat(room, from, stanza, (write) => trackWrite(event, write));
  if (isInvitation(stanza)) return handleInvitation(room, from, stanza);
  const form = readRequestForm(room, stanza);
  if (form === null) return;
  if (form) return handleRequestForm(room, from, stanza, form);
  refuse(room.host, stanza, new StanzaError('bad-request', 'Send groupchat messages to the room, or private messages to an occupant.'));
}

/** Reads the message's muc#request form. Returns null when the form is malformed and the sender got an error. */
function readRequestForm(room: Room, stanza: Element): ReturnType<typeof requestForm> | null {
  try {
    return requestForm(stanza);
  } catch (err) {
    if (!(err instanceof StanzaError)) throw err;
    refuse(room.host, stanza, err);
    return null;
  }
}

async function handleIq(room: Room, event: StanzaEvent): Promise<void> {
  const { stanza, from, to } = event;
  const type = stanza.attr('type');
  if (to.resource !== '') {
    if (type === 'result' || type === 'error') room.iqs.reply(room, from, stanza);
    else room.iqs.request(room, from, to.resource, stanza);
    return;
  }
  await answerIq(room.host, stanza, (payload) => handleRoomIq(room, event, payload));
}
