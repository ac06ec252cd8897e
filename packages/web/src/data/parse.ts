import type { XElement } from '../xmpp/index.js';
import type { Attachment } from './attachment-types.js';
import { NS } from './ns.js';
import { readAttachment } from './oob.js';

export type MarkerKind = 'received' | 'displayed' | 'acknowledged';
export type ChatState = 'composing' | 'paused' | 'active' | 'inactive' | 'gone';

/** The content of a message stanza, before the store places it in a conversation. */
export interface ParsedMessage {
  type: string;
  from: string;
  to: string;
  msgId?: string;
  body?: string;
  originId?: string;
  /** XEP-0359 stanza ids by archive JID (lowercased). */
  stanzaIds: Map<string, string>;
  /** XEP-0203 delay stamp in milliseconds. */
  delay?: number;
  /** XEP-0308: the id of the message this one corrects. */
  replaces?: string;
  /** XEP-0424 / XEP-0425: the id of the message this one retracts. */
  retracts?: string;
  moderatedBy?: string;
  /** An archived tombstone (XEP-0424 section 4): the message was retracted. */
  tombstone: boolean;
  receiptRequest: boolean;
  /** XEP-0184: this is a receipt for the message with this id. */
  receiptFor?: string;
  marker?: { kind: MarkerKind; id: string };
  chatState?: ChatState;
  /** The real JID a room discloses (muc#user item). */
  realJid?: string;
  /** Carries a muc#user element: in a chat message, a private message through a room. */
  mucUser: boolean;
  noStore: boolean;
  /** A shared file (XEP-0447 or XEP-0066 out-of-band data). */
  attachment?: Attachment;
}

const CHAT_STATES: readonly ChatState[] = ['composing', 'paused', 'active', 'inactive', 'gone'];
const MARKERS: readonly MarkerKind[] = ['received', 'displayed', 'acknowledged'];

export function parseMessage(stanza: XElement): ParsedMessage {
  const parsed: ParsedMessage = {
    type: stanza.attr('type') ?? 'normal',
    from: stanza.attr('from') ?? '',
    to: stanza.attr('to') ?? '',
    msgId: stanza.attr('id'),
    body: stanza.getChild('body', NS.CLIENT)?.text(),
    originId: stanza.getChild('origin-id', NS.SID)?.attr('id'),
    stanzaIds: stanzaIdsOf(stanza),
    tombstone: stanza.getChild('retracted', NS.RETRACT) !== undefined,
    receiptRequest: stanza.getChild('request', NS.RECEIPTS) !== undefined,
    receiptFor: stanza.getChild('received', NS.RECEIPTS)?.attr('id'),
    mucUser: stanza.getChild('x', NS.MUC_USER) !== undefined,
    noStore: stanza.getChild('no-store', NS.HINTS) !== undefined,
  };
  readEdits(stanza, parsed);
  readMarkerAndState(stanza, parsed);

  const stamp = stanza.getChild('delay', NS.DELAY)?.attr('stamp');
  if (stamp !== undefined && !Number.isNaN(Date.parse(stamp))) parsed.delay = Date.parse(stamp);
  const realJid = stanza.getChild('x', NS.MUC_USER)?.getChild('item')?.attr('jid');
  if (realJid) parsed.realJid = realJid;
  const attachment = readAttachment(stanza);
  if (attachment) parsed.attachment = attachment;
  return parsed;
}

function stanzaIdsOf(stanza: XElement): Map<string, string> {
  const ids = new Map<string, string>();
  for (const element of stanza.getChildren('stanza-id', NS.SID)) {
    const by = element.attr('by');
    const id = element.attr('id');
    if (by && id) ids.set(by.toLowerCase(), id);
  }
  return ids;
}

function readEdits(stanza: XElement, parsed: ParsedMessage): void {
  const replace = stanza.getChild('replace', NS.CORRECT)?.attr('id');
  if (replace) parsed.replaces = replace;
  const retract = stanza.getChild('retract', NS.RETRACT);
  const retractId = retract?.attr('id');
  if (!retract || !retractId) return;
  parsed.retracts = retractId;
  const moderated = retract.getChild('moderated', NS.MODERATE);
  if (moderated) parsed.moderatedBy = moderated.attr('by') ?? '';
}

function readMarkerAndState(stanza: XElement, parsed: ParsedMessage): void {
  for (const kind of MARKERS) {
    const id = stanza.getChild(kind, NS.MARKERS)?.attr('id');
    if (id) parsed.marker = { kind, id };
  }
  const state = stanza.elements().find((child) => child.ns === NS.CHAT_STATES);
  if (state && (CHAT_STATES as readonly string[]).includes(state.name)) parsed.chatState = state.name as ChatState;
}

/** Returns the message inside `<forwarded/>` (carbons, archive results, inbox entries) with its delay stamp. */
export function forwardedMessage(wrapper: XElement | undefined): { message: XElement; delay?: number } | undefined {
  const forwarded = wrapper?.getChild('forwarded', NS.FORWARD);
  const message = forwarded?.getChild('message', NS.CLIENT);
  if (!forwarded || !message) return undefined;
  const stamp = forwarded.getChild('delay', NS.DELAY)?.attr('stamp');
  const delay = stamp === undefined ? Number.NaN : Date.parse(stamp);
  return Number.isNaN(delay) ? { message } : { message, delay };
}
