/** IQs addressed to a room's bare JID. */
import { type Element, NS, StanzaError } from '@parley/xmpp';
import type { StanzaEvent } from '../../core/events.js';
import { mayRead, seesRealJidsInArchive } from './access.js';
import { activityOf } from './activity.js';
import { adminGet, adminSet } from './admin.js';
import { roomInfo, roomItems } from './disco.js';
import { moderate } from './moderation.js';
import { MUC_NS } from './ns.js';
import { ownerGet, ownerSet } from './owner.js';
import { type IqOutcome, ThenApply } from './reply.js';
import type { Room } from './room.js';

/** Returns the result payload (undefined for an empty result), or throws a StanzaError. */
export async function handleRoomIq(room: Room, event: StanzaEvent, payload: Element): Promise<IqOutcome> {
  const { from, stanza } = event;
  const type = stanza.attr('type');
  const key = `${type ?? ''} ${payload.ns} ${payload.name}`;
  if (room.locked && room.affiliationOf(from.bare()) !== 'owner') throw new StanzaError('item-not-found', 'No such room.');

  switch (key) {
    case `get ${NS.DISCO_INFO} query`:
      return roomInfo(room, from, payload.attr('node'));
    case `get ${NS.DISCO_ITEMS} query`:
      return roomItems(room, from);
    case `get ${MUC_NS.ADMIN} query`:
      return adminGet(room, from, payload);
    case `set ${MUC_NS.ADMIN} query`:
      return new ThenApply(undefined, adminSet(room, from, payload));
    case `get ${MUC_NS.OWNER} query`:
      return ownerGet(room, from, payload);
    case `set ${MUC_NS.OWNER} query`:
      await ownerSet(room, from, payload);
      return undefined;
    case `set ${MUC_NS.MODERATE} moderate`:
    case `set ${MUC_NS.FASTEN_0} apply-to`:
      return moderate(room, from, payload);
    case `get ${NS.PING} ping`:
      return undefined;
    case `get ${MUC_NS.ACTIVITY} activity`:
      if (!mayRead(room, from)) throw new StanzaError('forbidden', 'You may not read this room.');
      return activityOf(room.host, from.bare(), [{ jid: room.jid, live: room }]);
  }
  if (payload.ns === NS.MAM) {
    if (!mayRead(room, from)) throw new StanzaError('forbidden', 'You may not read the archive of this room.');
    const request = { stanza, payload, from, to: room.jid, self: false, session: event.origin };
    return room.host.archive.handleIq(request, room.jid, { realJids: seesRealJidsInArchive(room, from) });
  }
  throw new StanzaError('service-unavailable');
}
