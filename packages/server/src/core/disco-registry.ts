import type { Element } from '@parley/xmpp';
import type { IqRequest } from './iq.js';

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
}

/** Source of service discovery results about an account's nodes, such as PEP nodes, filtered for one requester. */
export interface AccountNodeProvider {
  /** Returns the `<item/>` elements of the account's disco#items that the requester may see. */
  items(request: IqRequest): Promise<Element[]>;
  /** Returns the disco#info `<query/>` of `node`, or undefined when the provider has no such node for the requester. */
  info(request: IqRequest, node: string): Promise<Element | undefined>;
}

/**
 * The features, identities and extension forms that modules announce through service
 * discovery (XEP-0030), for the server itself and for user accounts.
 */
export class Disco {
  readonly hostFeatures = new Set<string>();
  readonly accountFeatures = new Set<string>();
  readonly hostIdentities: DiscoIdentity[] = [{ category: 'server', type: 'im', name: 'Parley' }];
  readonly accountIdentities: DiscoIdentity[] = [{ category: 'account', type: 'registered' }];
  /** XEP-0128 extension forms for the server's disco#info, such as XEP-0157 contact addresses. */
  readonly hostExtensions: (() => Element)[] = [];
  /** Items of the server's disco#items: subdomain services such as MUC or upload. */
  readonly hostItems: { jid: string; name?: string }[] = [];
  /** Sources of an account's disco#items and of the disco#info of its nodes. */
  readonly accountNodeProviders: AccountNodeProvider[] = [];

  addHostFeature(...features: string[]): void {
    for (const feature of features) this.hostFeatures.add(feature);
  }

  addAccountFeature(...features: string[]): void {
    for (const feature of features) this.accountFeatures.add(feature);
  }
}
