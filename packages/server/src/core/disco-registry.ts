import type { Element } from '@parley/xmpp';

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
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

  addHostFeature(...features: string[]): void {
    for (const feature of features) this.hostFeatures.add(feature);
  }

  addAccountFeature(...features: string[]): void {
    for (const feature of features) this.accountFeatures.add(feature);
  }
}
