/**
 * The state of a resumable session in JSON, as one cluster node hands the session to
 * another when its client resumes there (XEP-0198 resumption on another node).
 */
import { type Element, JID, parseFrame, serialize } from '@parley/xmpp';
import type { ClientSession } from './session.js';
import { type StreamManagement, restoreStreamManagement } from './stream-management.js';

/** A value of `ClientSession.data` that can travel: a primitive, or a set of strings. */
export type MovedValue = string | number | boolean | { set: string[] };

/** The part of a session that the node continuing it needs. */
export interface MovedSession {
  jid: string;
  /** The last available presence, serialized. */
  presence?: string;
  priority: number;
  rosterInterested: boolean;
  directedPresence: string[];
  /** The module data that can travel, by key, while the rest stays behind (see `captureSession`). */
  data: [string, MovedValue][];
  sm: {
    handled: number;
    acked: number;
    /** The unacknowledged stanzas, serialized, oldest first. */
    unacked: string[];
    resumeTimeoutS: number;
  };
}

/**
 * Captures what another node needs to continue `session`, which has stream management.
 * Module data travels when it is a string, number, boolean or set of strings. Other values,
 * objects such as client state indication, stay behind and are logged at debug level, so
 * those modules start afresh on the new node, as on a resumed stream.
 */
export function captureSession(session: ClientSession): MovedSession {
  const sm = session.sm!;
  const snapshot = sm.snapshot();
  const data: [string, MovedValue][] = [];
  // NOTE: the PEP module's record of the client's caps stays behind too, so the new node sends
  // the client no PEP notifications until its next available presence announces the caps.
  for (const [key, value] of session.data) {
    const moved = movedValue(value);
    if (moved === undefined) session.log.debug({ key }, 'session data that cannot travel stays behind');
    else data.push([key, moved]);
  }
  return {
    jid: session.jid!.toString(),
    presence: session.presence ? serialize(session.presence) : undefined,
    priority: session.priority,
    rosterInterested: session.rosterInterested,
    directedPresence: [...session.directedPresence],
    data,
    sm: { handled: snapshot.handled, acked: snapshot.acked, unacked: snapshot.unacked.map((stanza) => serialize(stanza)), resumeTimeoutS: sm.resumeTimeoutS },
  };
}

/** A moved session with its stanzas parsed, ready for `restoreSession`. */
export interface DecodedSession {
  jid: JID;
  presence: Element | undefined;
  unacked: Element[];
  moved: MovedSession;
}

/** Parses the addresses and stanzas of a moved session, and throws when one is invalid. */
export function decodeSession(moved: MovedSession, maxStanzaBytes: number): DecodedSession {
  const parse = (xml: string) => parseFrame(xml, { maxStanzaBytes });
  return {
    jid: JID.parse(moved.jid),
    presence: moved.presence === undefined ? undefined : parse(moved.presence),
    unacked: moved.sm.unacked.map(parse),
    moved,
  };
}

/**
 * Gives `successor` the presence and module data of a moved session and returns its stream
 * management state under `token`, for `ClientSession.continueMoved`.
 */
export function restoreSession(successor: ClientSession, decoded: DecodedSession, token: string): StreamManagement {
  const { moved } = decoded;
  successor.presence = decoded.presence;
  successor.priority = moved.priority;
  successor.rosterInterested = moved.rosterInterested;
  for (const jid of moved.directedPresence) successor.directedPresence.add(jid);
  for (const [key, value] of moved.data) successor.data.set(key, typeof value === 'object' ? new Set(value.set) : value);

  const snapshot = { handled: moved.sm.handled, acked: moved.sm.acked, unacked: decoded.unacked };
  return restoreStreamManagement(successor, snapshot, token, moved.sm.resumeTimeoutS);
}

function movedValue(value: unknown): MovedValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Set && [...value].every((item) => typeof item === 'string')) return { set: [...(value as Set<string>)] };
  return undefined;
}
