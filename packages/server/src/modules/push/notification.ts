/** The pubsub publish that carries a push notification to an app server (XEP-0357 section 7). */
import { type DataForm, type FormField, NS, buildForm, x, type Element } from '@parley/xmpp';
import { NS_PUBSUB, NS_PUSH, PUBLISH_OPTIONS_FORM, PUSH_SUMMARY_FORM } from './ns.js';

/** The urn:xmpp:push:summary content of one notification. */
export interface PushSummary {
  /** Messages for the device since it was last connected or enabled push. */
  messageCount: number;
  /** Full JID of the last sender: a contact's resource, or a room occupant. */
  lastSender: string;
  /** The last message's body, only when [push] include_body is set. */
  lastBody: string | undefined;
}

function field(name: string, value: string, type?: FormField['type']): FormField {
  return type === undefined ? { var: name, values: [value] } : { var: name, type, values: [value] };
}

/** Builds the summary form; the body goes in only when given. */
export function summaryForm(summary: PushSummary): Element {
  const fields = [
    field('FORM_TYPE', PUSH_SUMMARY_FORM, 'hidden'),
    field('message-count', String(summary.messageCount)),
    field('last-message-sender', summary.lastSender, 'jid-single'),
  ];
  if (summary.lastBody !== undefined) fields.push(field('last-message-body', summary.lastBody));
  return buildForm({ type: 'submit', fields });
}

/** Rebuilds the publish-options form from the stored fields, FORM_TYPE first. */
export function publishOptionsForm(stored: FormField[]): Element {
  const form: DataForm = {
    type: 'submit',
    fields: [field('FORM_TYPE', PUBLISH_OPTIONS_FORM, 'hidden'), ...stored.filter((entry) => entry.var !== 'FORM_TYPE')],
  };
  return buildForm(form);
}

/** Parameters of one publish IQ. */
export interface NotificationRequest {
  id: string;
  /** The account's bare JID, which the app server authorizes as publisher. */
  from: string;
  service: string;
  node: string;
  summary: PushSummary;
  publishOptions: FormField[] | undefined;
}

/** Builds the `<iq type='set'/>` that publishes a notification to the app server's node. */
export function notificationIq(request: NotificationRequest): Element {
  const item = x('item', NS_PUBSUB, {}, x('notification', NS_PUSH, {}, summaryForm(request.summary)));
  const pubsub = x('pubsub', NS_PUBSUB, {}, x('publish', NS_PUBSUB, { node: request.node }, item));
  if (request.publishOptions !== undefined) pubsub.append(x('publish-options', NS_PUBSUB, {}, publishOptionsForm(request.publishOptions)));
  return x('iq', NS.CLIENT, { type: 'set', id: request.id, from: request.from, to: request.service }, pubsub);
}
