/** The room configuration form, muc#roomconfig (XEP-0045 sections 10.1.3 and 15.5.3). */
import { type DataForm, type Element, type FormField, JID, NS, StanzaError, buildForm, fieldBoolean, fieldValue, getFormType, parseForm } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import type { PrivateMessagePolicy, RoomConfig } from './types.js';

export const DEFAULT_CONFIG: RoomConfig = {
  name: '',
  description: '',
  persistent: false,
  public: true,
  membersOnly: false,
  moderated: false,
  password: '',
  maxUsers: 0,
  whoisAnyone: false,
  changeSubject: false,
  allowInvites: false,
  allowPrivateMessages: 'anyone',
};

const PM_POLICIES: readonly PrivateMessagePolicy[] = ['anyone', 'participants', 'moderators', 'none'];
const F = 'muc#roomconfig_';

function bool(name: string, label: string, value: boolean): FormField {
  return { var: F + name, type: 'boolean', label, values: [value ? '1' : '0'] };
}

function list(name: string, label: string, value: string, options: string[]): FormField {
  return { var: F + name, type: 'list-single', label, values: [value], options: options.map((option) => ({ value: option })) };
}

/** Builds the form an owner gets to fill in, with the current values. */
export function configForm(config: RoomConfig, maxOccupants: number, lists: { owners: string[]; admins: string[] } = { owners: [], admins: [] }): Element {
  const sizes = ['10', '20', '30', '50', '100', '200', '500', '1000'].filter((size) => Number(size) <= maxOccupants);
  const form: DataForm = {
    type: 'form',
    title: 'Room configuration',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [MUC_NS.ROOMCONFIG] },
      { var: F + 'roomname', type: 'text-single', label: 'Room name', values: [config.name] },
      { var: F + 'roomdesc', type: 'text-single', label: 'Description', values: [config.description] },
      bool('persistentroom', 'Keep the room when the last occupant leaves', config.persistent),
      bool('publicroom', 'List the room in the directory', config.public),
      bool('membersonly', 'Only members may enter', config.membersOnly),
      bool('moderatedroom', 'Only occupants with voice may speak', config.moderated),
      bool('passwordprotectedroom', 'A password is needed to enter', config.password !== ''),
      { var: F + 'roomsecret', type: 'text-private', label: 'Password', values: [config.password] },
      list('maxusers', 'Maximum occupants', config.maxUsers === 0 ? 'none' : String(config.maxUsers), [...sizes, 'none']),
      list('whois', 'Who may see real addresses', config.whoisAnyone ? 'anyone' : 'moderators', ['moderators', 'anyone']),
      bool('changesubject', 'Participants may change the subject', config.changeSubject),
      bool('allowinvites', 'Participants may invite others', config.allowInvites),
      list('allowpm', 'Who may send private messages', config.allowPrivateMessages, [...PM_POLICIES]),
      { var: F + 'roomowners', type: 'jid-multi', label: 'Room owners', values: lists.owners },
      { var: F + 'roomadmins', type: 'jid-multi', label: 'Room admins', values: lists.admins },
    ],
  };
  return buildForm(form);
}

/** The multi-value fields of the form, which a submission may send with several values and no type. */
const MULTI_FIELDS = new Set([F + 'roomowners', F + 'roomadmins']);

/**
 * XEP-0004 lets a submitted form leave out field types, and clients do, so the form's own
 * types fill them in before parsing (an untyped field reads as text-single otherwise).
 */
function withFieldTypes(element: Element): Element {
  const copy = element.clone();
  for (const field of copy.getChildren('field', NS.DATA_FORMS)) {
    if (field.attr('type') === undefined && MULTI_FIELDS.has(field.attr('var') ?? '')) field.setAttr('type', 'jid-multi');
  }
  return copy;
}

function notAcceptable(text: string): StanzaError {
  return new StanzaError('not-acceptable', text);
}

function readMaxUsers(value: string | undefined, current: number): number {
  if (value === undefined) return current;
  const trimmed = value.trim();
  if (trimmed === 'none' || trimmed === '' || trimmed === '0') return 0;
  if (!/^\d{1,9}$/.test(trimmed)) throw notAcceptable(`"${value}" is not a number of occupants.`);
  return Number(trimmed);
}

function readChoice<T extends string>(value: string | undefined, choices: readonly T[], current: T, field: string): T {
  if (value === undefined) return current;
  if (!(choices as readonly string[]).includes(value)) throw notAcceptable(`"${value}" is not a value of ${field}.`);
  return value as T;
}

/**
 * Applies a submitted form to `current` and returns the new configuration. Fields the
 * form leaves out keep their values; unknown fields are ignored; a wrong FORM_TYPE or
 * value is refused.
 */
export function applyConfigForm(element: Element, current: RoomConfig): RoomConfig {
  const form = parseForm(withFieldTypes(element));
  if (form.type !== 'submit') throw new StanzaError('bad-request', 'Expected a submitted form.');
  const type = getFormType(form);
  if (type !== undefined && type !== MUC_NS.ROOMCONFIG) throw new StanzaError('bad-request', `Unexpected FORM_TYPE "${type}".`);

  const next: RoomConfig = { ...current };
  next.name = fieldValue(form, F + 'roomname') ?? current.name;
  next.description = fieldValue(form, F + 'roomdesc') ?? current.description;
  next.persistent = fieldBoolean(form, F + 'persistentroom') ?? current.persistent;
  next.public = fieldBoolean(form, F + 'publicroom') ?? current.public;
  next.membersOnly = fieldBoolean(form, F + 'membersonly') ?? current.membersOnly;
  next.moderated = fieldBoolean(form, F + 'moderatedroom') ?? current.moderated;
  next.maxUsers = readMaxUsers(fieldValue(form, F + 'maxusers'), current.maxUsers);
  next.whoisAnyone = readChoice(fieldValue(form, F + 'whois'), ['moderators', 'anyone'], current.whoisAnyone ? 'anyone' : 'moderators', 'whois') === 'anyone';
  next.changeSubject = fieldBoolean(form, F + 'changesubject') ?? current.changeSubject;
  next.allowInvites = fieldBoolean(form, F + 'allowinvites') ?? current.allowInvites;
  next.allowPrivateMessages = readChoice(fieldValue(form, F + 'allowpm'), PM_POLICIES, current.allowPrivateMessages, 'allowpm');
  next.password = readPassword(form, current);
  return next;
}

function readPassword(form: DataForm, current: RoomConfig): string {
  const protect = fieldBoolean(form, F + 'passwordprotectedroom');
  const secret = fieldValue(form, F + 'roomsecret');
  if (protect === false) return '';
  const password = secret ?? current.password;
  if (protect === true && password === '') throw notAcceptable('A password-protected room needs a password.');
  return password;
}

/** Reads the owner and admin lists of a submitted form as bare JIDs, undefined for a list the form leaves out. */
export function readAffiliationLists(element: Element): { owners?: string[]; admins?: string[] } {
  const form = parseForm(withFieldTypes(element));
  const read = (name: string): string[] | undefined => {
    const field = form.fields.find((candidate) => candidate.var === F + name);
    if (!field) return undefined;
    return field.values.filter((value) => value.trim() !== '').map((value) => {
      const jid = JID.parseOrNull(value.trim());
      if (!jid) throw new StanzaError('jid-malformed', `"${value}" is not a valid JID.`);
      return jid.bare().toString();
    });
  };
  return { owners: read('roomowners'), admins: read('roomadmins') };
}

/** Reads a stored configuration, falling back to the defaults for keys an older version did not write. */
export function parseStoredConfig(json: string): RoomConfig {
  const stored = JSON.parse(json) as Partial<RoomConfig>;
  return { ...DEFAULT_CONFIG, ...stored };
}
