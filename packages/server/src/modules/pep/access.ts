/** Access models of XEP-0060 section 4.5 as PEP applies them (XEP-0163 section 4.3). */
import type { JID, StanzaError } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { RosterItem } from '../../storage/index.js';
import { isSharedContact } from '../roster/overlay.js';
import { hasFrom } from '../roster/records.js';
import type { NodeConfig } from './config.js';
import { pubsubError } from './errors.js';

/** The relation of a requesting entity to the account that owns the nodes. */
export interface Relation {
  owner: boolean;
  /** The owner shares its presence with the entity (subscription 'from' or 'both'). */
  subscribed: boolean;
  /** The roster groups of the entity in the owner's roster; empty when it is not a roster item. */
  groups: string[];
}

/** The relation of the account owner to itself. */
export const OWNER: Relation = { owner: true, subscribed: true, groups: [] };

/** Builds the relation from the owner's roster record of the entity, null when there is none. */
export function relationFromRoster(record: RosterItem | null): Relation {
  if (record === null || record.hidden) return { owner: false, subscribed: false, groups: [] };
  return { owner: false, subscribed: hasFrom(record.subscription), groups: record.groups };
}

/**
 * Returns the error that denies `relation` access to a node with `config`, or undefined
 * when access is allowed. The owner always has access. The errors are those of XEP-0060
 * sections 6.1.3 and 6.5.9: not-authorized for the presence and roster models, and
 * not-allowed with closed-node for a whitelist, which lists the owner alone.
 */
export function accessError(config: NodeConfig, relation: Relation): StanzaError | undefined {
  if (relation.owner) return undefined;
  switch (config.accessModel) {
    case 'open':
      return undefined;
    case 'presence':
      if (relation.subscribed) return undefined;
      return pubsubError('not-authorized', 'presence-subscription-required', 'The node is for contacts that receive the owner\'s presence.');
    case 'roster':
      if (relation.groups.some((group) => config.rosterGroups.includes(group))) return undefined;
      return pubsubError('not-authorized', 'not-in-roster-group', 'The node is for roster groups that the requester is not in.');
    case 'whitelist':
      // TODO: let the owner add other entities to the whitelist through affiliations (XEP-0060 section 8.9).
      return pubsubError('not-allowed', 'closed-node', 'The node is private to its owner.');
  }
}

/** Loads how `requester` relates to the account `owner`. */
export async function loadRelation(server: ServerContext, owner: JID, requester: JID): Promise<Relation> {
  if (requester.bare().equals(owner.bare())) return OWNER;
  const record = await server.storage.roster.get(owner.domain, owner.local, requester.bare().toString());
  const relation = relationFromRoster(record);
  // A shared contact receives the owner's presence without a subscription (shared roster groups).
  if (!relation.subscribed && (await isSharedContact(server, owner, requester))) return { ...relation, subscribed: true };
  return relation;
}
