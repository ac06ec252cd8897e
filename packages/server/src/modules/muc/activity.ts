/** The per-room last-activity query (urn:parley:muc:activity:0, a Parley extension documented in docs/protocol.md). */
import { type Element, JID, x } from '@parley/xmpp';
import type { RoomHost } from './host.js';
import { MUC_NS } from './ns.js';
import type { Room } from './room.js';

/** Builds the `<activity/>` result for `rooms` as `user` (a bare JID) is allowed to read them. */
export async function activityOf(host: RoomHost, user: JID, rooms: { jid: JID; live: Room | undefined }[]): Promise<Element> {
  const last = await host.archive.lastActivity(rooms.map((room) => room.jid));
  const result = x('activity', MUC_NS.ACTIVITY);
  for (const { jid, live } of rooms) {
    const newest = last.get(jid.toString());
    const joined = live !== undefined && live.occupants.ofAccount(user).length > 0;
    result.append(
      x('room', MUC_NS.ACTIVITY, {
        jid: jid.toString(),
        'last-id': newest?.stanzaId,
        last: newest === undefined ? undefined : new Date(newest.at).toISOString(),
        joined: joined ? 'true' : 'false',
      }),
    );
  }
  return result;
}

/** Lists the rooms of the service in which `user` is a member, admin or owner. */
export async function affiliatedRooms(host: RoomHost, user: JID): Promise<JID[]> {
  const rows = await host.store.roomsOf(host.service, user.bare().toString(), ['member', 'admin', 'owner']);
  return rows.map((row) => JID.fromParts(row.name, host.service));
}
