import { x, type XElement } from '../../xmpp/index.js';
import { bare, resource } from './jid.js';
import { NS } from './ns.js';

/** Availability values of the presence picker: RFC 6121 <show/> values, and 'available' for none. */
export type Show = 'available' | 'away' | 'dnd' | 'xa';
export const SHOWS: readonly Show[] = ['available', 'away', 'dnd', 'xa'];

export interface PresenceInfo {
  jid: string;
  resource?: string;
  type: 'available' | 'unavailable' | 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' | 'error';
  show: Show;
  status?: string;
  priority: number;
  /** The <x xmlns=muc#user> child of a room presence, when present. */
  muc?: XElement;
}

/** Builds the broadcast presence of the account (RFC 6121 section 4.2). */
export function buildPresence(show: Show, status: string, priority = 0): XElement {
  return x(
    'presence',
    NS.CLIENT,
    {},
    show !== 'available' && x('show', NS.CLIENT, {}, show),
    status !== '' && x('status', NS.CLIENT, {}, status),
    x('priority', NS.CLIENT, {}, String(priority)),
  );
}

export function parsePresence(stanza: XElement): PresenceInfo {
  const from = stanza.attr('from') ?? '';
  const type = (stanza.attr('type') ?? 'available') as PresenceInfo['type'];
  const showText = stanza.getChildText('show', NS.CLIENT);
  // 'chat' and a missing <show/> both count as available.
  const show: Show = showText === 'away' || showText === 'dnd' || showText === 'xa' ? showText : 'available';
  const priority = Number.parseInt(stanza.getChildText('priority', NS.CLIENT) ?? '0', 10);
  return {
    jid: bare(from),
    resource: resource(from),
    type,
    show,
    status: stanza.getChildText('status', NS.CLIENT) || undefined,
    priority: Number.isFinite(priority) ? priority : 0,
    muc: stanza.getChild('x', NS.MUC_USER),
  };
}

/** Builds a presence subscription request or reply (RFC 6121 section 3). */
export function subscription(to: string, type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed'): XElement {
  return x('presence', NS.CLIENT, { to: bare(to), type });
}
