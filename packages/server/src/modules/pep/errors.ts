/** Publish-subscribe errors (XEP-0060): a stanza error with a pubsub#errors condition. */
import { StanzaError, type StanzaErrorCondition, x } from '@parley/xmpp';
import { NS_PUBSUB_ERRORS } from './ns.js';

/** Builds a StanzaError that carries `<pubsubCondition xmlns='…pubsub#errors'/>`, with `feature` for unsupported. */
export function pubsubError(condition: StanzaErrorCondition, pubsubCondition: string, text: string, feature?: string): StanzaError {
  return new StanzaError(condition, text, { extra: x(pubsubCondition, NS_PUBSUB_ERRORS, { feature }) });
}

/** XEP-0060 section 7.1.5: the node exists and its configuration differs from the publish options. */
export function preconditionNotMet(text: string): StanzaError {
  return pubsubError('conflict', 'precondition-not-met', text);
}

export function nodeNotFound(node: string): StanzaError {
  return new StanzaError('item-not-found', `The node "${node}" does not exist.`);
}

/** XEP-0060 sections 7.1.3.1 and 8: only the account owner publishes, configures, purges and deletes. */
export function ownerOnly(action: string): StanzaError {
  return new StanzaError('forbidden', `Only the account owner can ${action} its nodes.`);
}
