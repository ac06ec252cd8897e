/** Voice requests (XEP-0045 sections 7.13 and 8.6): a visitor requests voice, and moderators approve with the muc#request form. */
import { type DataForm, type Element, type JID, NS, StanzaError, buildForm, fieldBoolean, fieldValue, getFormType, parseForm, x } from '@parley/xmpp';
import { applyRole } from './changes.js';
import { MUC_NS } from './ns.js';
import { roleChangeRefusal } from './permissions.js';
import { refuse } from './reply.js';
import type { Room } from './room.js';

/** Returns the muc#request form of a message, if it has one. */
export function requestForm(stanza: Element): DataForm | undefined {
  const element = stanza.getChild('x', NS.DATA_FORMS);
  if (!element) return undefined;
  const form = parseForm(element);
  return getFormType(form) === MUC_NS.REQUEST ? form : undefined;
}

function approvalForm(room: Room, nick: string, real: JID): Element {
  return buildForm({
    type: 'form',
    title: 'Voice request',
    instructions: ['To approve this request for voice, select the "Grant voice" checkbox and submit the form.'],
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [MUC_NS.REQUEST] },
      { var: 'muc#role', type: 'list-single', label: 'Requested role', values: ['participant'], options: [{ value: 'participant' }] },
      { var: 'muc#jid', type: 'jid-single', label: 'User ID', values: [real.toString()] },
      { var: 'muc#roomnick', type: 'text-single', label: 'Room nickname', values: [nick] },
      { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice', values: ['0'] },
    ],
  });
}

/** Forwards an occupant's request to every moderator, and grants voice when a moderator submits the approval form. */
export async function handleRequestForm(room: Room, from: JID, stanza: Element, form: DataForm): Promise<void> {
  const occupant = room.occupants.bySessionJid(from);
  if (!occupant) {
    refuse(room.host, stanza, new StanzaError('not-acceptable', 'Only occupants may ask for voice.'));
    return;
  }
  if (fieldValue(form, 'muc#roomnick') !== undefined && occupant.role === 'moderator') {
    await approve(room, occupant.nick, from, stanza, form);
    return;
  }
  const moderators = room.occupants.all().filter((candidate) => candidate.role === 'moderator');
  for (const moderator of moderators) {
    for (const session of moderator.sessions.values()) {
      room.sendTo(session, room.jid, x('message', NS.CLIENT, {}, approvalForm(room, occupant.nick, from)));
    }
  }
}

async function approve(room: Room, actorNick: string, from: JID, stanza: Element, form: DataForm): Promise<void> {
  if (fieldBoolean(form, 'muc#request_allow') !== true) return;
  const nick = fieldValue(form, 'muc#roomnick') ?? '';
  const target = room.occupants.byNickname(nick);
  if (!target) {
    refuse(room.host, stanza, new StanzaError('item-not-found', `No occupant is called ${nick}.`));
    return;
  }
  const actor = { affiliation: room.affiliationOf(from.bare()), role: 'moderator' as const };
  const refusal = roleChangeRefusal(actor, { affiliation: room.affiliationOf(target.bare), role: target.role }, 'participant');
  if (refusal) {
    refuse(room.host, stanza, new StanzaError(refusal));
    return;
  }
  if (target.role === 'visitor') await applyRole(room, nick, 'participant', { actorNick });
}
