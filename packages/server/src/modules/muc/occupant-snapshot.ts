/** The occupants of a room as JSON, so that the node that takes a room over can restore them. */
import { JID, parseFrame, serialize } from '@parley/xmpp';
import type { OccupantList } from './occupants.js';
import type { Role } from './types.js';

interface StoredOccupant {
  nick: string;
  /** Full JIDs of the occupant's sessions. */
  sessions: string[];
  role: Role;
  /** The occupant's latest presence, serialized. */
  presence: string;
}

/** Returns the occupants of `list` as JSON. */
export function encodeOccupants(list: OccupantList): string {
  const stored: StoredOccupant[] = list.all().map((occupant) => ({
    nick: occupant.nick,
    sessions: [...occupant.sessions.keys()],
    role: occupant.role,
    presence: serialize(occupant.presence),
  }));
  return JSON.stringify(stored);
}

/** Adds the occupants of `text` (from `encodeOccupants`) to `list`; entries that do not parse are skipped. */
export function restoreOccupants(list: OccupantList, text: string, maxStanzaBytes: number): void {
  for (const entry of JSON.parse(text) as StoredOccupant[]) {
    const sessions = entry.sessions.flatMap((session) => JID.parseOrNull(session) ?? []);
    if (sessions.length === 0 || list.byNickname(entry.nick)) continue;
    let presence;
    try {
      presence = parseFrame(entry.presence, { maxStanzaBytes });
    } catch {
      continue;
    }

    const occupant = list.add(entry.nick, sessions[0]!, entry.role, presence);
    for (const session of sessions.slice(1)) list.addSession(occupant, session);
  }
}
