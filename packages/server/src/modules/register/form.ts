/** The registration form of XEP-0077 and the reading of what a client submits. */
import { type Element, NS, StanzaError, buildForm, fieldValue, getFormType, parseForm, x } from '@parley/xmpp';

/** FORM_TYPE of the registration form (XEP-0077 section 13.4). */
export const REGISTER_FORM_TYPE = 'jabber:iq:register';
/** FORM_TYPE of the password change form (XEP-0077 section 13.4). */
export const CHANGE_PASSWORD_FORM_TYPE = 'jabber:iq:register:changepassword';

/** The values a client submitted in a registration or password change set. */
export interface Submission {
  username: string | undefined;
  password: string | undefined;
  /** Invite token: the 'token' form field, or the legacy `<key/>` element (XEP-0077 section 7). */
  token: string | undefined;
}

/**
 * Builds the result of a registration get. With policy 'open' it carries both the plain
 * fields and the data form (XEP-0077 section 6). With 'invite' the form requires a token,
 * which no plain field can carry, so section 6 calls for the form and instructions only.
 */
export function registrationForm(domain: string, inviteRequired: boolean): Element {
  const instructions = inviteRequired
    ? `Choose a username and password for ${domain} and enter your invite token.`
    : `Choose a username and password for ${domain}.`;
  const form = buildForm({
    type: 'form',
    title: `Register with ${domain}`,
    instructions: [instructions],
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [REGISTER_FORM_TYPE] },
      { var: 'username', type: 'text-single', label: 'Username', required: true, values: [] },
      { var: 'password', type: 'text-private', label: 'Password', required: true, values: [] },
      ...(inviteRequired ? [{ var: 'token', type: 'text-single' as const, label: 'Invite token', required: true, values: [] }] : []),
    ],
  });

  const query = x('query', NS.REGISTER, {}, x('instructions', NS.REGISTER, {}, instructions));
  if (!inviteRequired) query.append(x('username', NS.REGISTER), x('password', NS.REGISTER));
  return query.append(form);
}

/**
 * Reads a set: the data form when there is one (it takes precedence, XEP-0077 section 6),
 * else the plain `<username/>`, `<password/>` and `<key/>` elements. Throws bad-request
 * for a malformed form or one of another FORM_TYPE than `formTypes`.
 */
export function readSubmission(query: Element, formTypes: string[]): Submission {
  const formElement = query.getChild('x', NS.DATA_FORMS);
  if (!formElement) {
    return {
      username: query.getChildText('username', NS.REGISTER),
      password: query.getChildText('password', NS.REGISTER),
      token: query.getChildText('key', NS.REGISTER),
    };
  }

  const form = parseForm(formElement);
  if (form.type !== 'submit') throw new StanzaError('bad-request', `The form must be of type "submit", not "${form.type}".`);
  const formType = getFormType(form);
  if (formType === undefined || !formTypes.includes(formType)) {
    throw new StanzaError('bad-request', `The form must have the FORM_TYPE ${formTypes.join(' or ')}.`);
  }
  return { username: fieldValue(form, 'username'), password: fieldValue(form, 'password'), token: fieldValue(form, 'token') };
}
