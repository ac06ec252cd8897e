/**
 * The enable and disable requests of XEP-0357 (sections 5 and 6), and the remote disabling
 * an app server may announce (section 8).
 */
import { type Element, type FormField, JID, NS, StanzaError, getFormType, parseForm } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { StanzaEvent } from '../../core/events.js';
import type { IqRequest } from '../../core/iq.js';
import { NS_PUBSUB, PUBLISH_OPTIONS_FORM } from './ns.js';
import type { PushRegistry } from './registry.js';
import type { PushSummaries } from './summaries.js';
import { deviceKey } from './registry.js';

/** Maximum length of a node name, in UTF-16 code units. */
const MAX_NODE_LENGTH = 1023;

/** The account and session of a request, which must come from the account itself. */
function requester(request: IqRequest): { account: JID; session: ClientSession } {
  if (!request.self || request.session === undefined) throw new StanzaError('forbidden', 'Only a session of the account itself can change its push notifications.');
  return { account: request.from.bare(), session: request.session };
}

/** Reads the app server's JID from the 'jid' attribute; an address of this server is rejected. */
function readService(payload: Element, domain: string): string {
  const raw = payload.attr('jid');
  if (raw === undefined || raw === '') throw new StanzaError('bad-request', "The 'jid' attribute with the app server's JID is missing.");
  const service = JID.parseOrNull(raw);
  if (service === null) throw new StanzaError('jid-malformed', `'${raw}' is not a valid JID.`);
  if (service.domain === domain) throw new StanzaError('not-acceptable', 'Notifications go to an app server, not to an account or the server itself.');
  return service.toString();
}

function readNode(payload: Element, required: boolean): string | undefined {
  const node = payload.attr('node');
  if (node === undefined || node === '') {
    if (required) throw new StanzaError('bad-request', "The 'node' attribute with the app server's node is missing.");
    return undefined;
  }
  if (node.length > MAX_NODE_LENGTH) throw new StanzaError('bad-request', `The node name is longer than ${MAX_NODE_LENGTH} characters.`);
  return node;
}

/**
 * Reads the publish-options form, if the request has one. A form without a type attribute,
 * as in the examples of XEP-0357, is read as a submitted form.
 */
function readPublishOptions(payload: Element): FormField[] | undefined {
  const forms = payload.getChildren('x', NS.DATA_FORMS);
  if (forms.length === 0) return undefined;
  if (forms.length > 1) throw new StanzaError('bad-request', 'Send at most one publish-options form.');

  const element = forms[0]!.clone();
  if (element.attr('type') === undefined) element.setAttr('type', 'submit');
  const form = parseForm(element);
  if (form.type !== 'submit') throw new StanzaError('bad-request', "The publish-options form must be of type 'submit'.");
  if (getFormType(form) !== PUBLISH_OPTIONS_FORM) throw new StanzaError('bad-request', `The form's FORM_TYPE must be ${PUBLISH_OPTIONS_FORM}.`);
  // Labels, descriptions and options mean nothing to the app server; var, type and values are kept.
  return form.fields
    .filter((field) => field.var !== 'FORM_TYPE')
    .map((field) => (field.type === undefined ? { var: field.var, values: field.values } : { var: field.var, type: field.type, values: field.values }));
}

/** Handles `<enable/>`: stores the registration, or replaces its publish options, and ties it to the session. */
export async function enablePush(registry: PushRegistry, summaries: PushSummaries, request: IqRequest, domain: string, max: number): Promise<void> {
  const { account, session } = requester(request);
  const service = readService(request.payload, domain);
  const node = readNode(request.payload, true)!;
  const publishOptions = readPublishOptions(request.payload);

  const registration = { service, node, publishOptions };
  if (!(await registry.enable(account, registration, session, max))) {
    throw new StanzaError('policy-violation', `The account already has the maximum of ${max} push registrations. Disable one first.`);
  }
  summaries.reset(account, deviceKey(registration));
  session.log.info({ service }, 'push notifications enabled');
}

/** Handles `<disable/>`: removes the registration of the node, or every registration of the app server. */
export async function disablePush(registry: PushRegistry, request: IqRequest): Promise<void> {
  const { account, session } = requester(request);
  const raw = request.payload.attr('jid');
  if (raw === undefined || raw === '') throw new StanzaError('bad-request', "The 'jid' attribute with the app server's JID is missing.");
  const service = JID.parseOrNull(raw);
  if (service === null) throw new StanzaError('jid-malformed', `'${raw}' is not a valid JID.`);

  await registry.remove(account, service.toString(), readNode(request.payload, false));
  session.log.info({ service: service.toString() }, 'push notifications disabled');
}

/**
 * Handles 'message/bare': an app server's notice that the account may no longer publish to
 * a node (its affiliation became 'none') removes that registration. Returns true for such a
 * notice, which no client needs.
 */
export async function remoteDisable(registry: PushRegistry, event: StanzaEvent): Promise<boolean> {
  const account = event.to.bare();
  if (!registry.mayHave(account)) return false;
  const pubsub = event.stanza.getChild('pubsub', NS_PUBSUB);
  const node = pubsub?.attr('node');
  const affiliation = pubsub?.getChild('affiliation', NS_PUBSUB);
  if (node === undefined || affiliation === undefined || affiliation.attr('affiliation') !== 'none') return false;
  if (JID.parseOrNull(affiliation.attr('jid') ?? '')?.equals(account) !== true) return false;

  const service = event.from.toString();
  const registered = (await registry.list(account)).some((registration) => registration.service === service && registration.node === node);
  if (!registered) return false;
  await registry.remove(account, service, node);
  return true;
}
