/**
 * The HT-* SASL mechanisms of draft-schmaus-kitten-sasl-ht, which XEP-0484 (FAST) uses: one
 * message each way, an HMAC keyed with the token over a label and the channel binding data.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { ChannelBinding, ChannelBindingType } from './channel-binding.js';

/** HT mechanisms with SHA-256, by the channel binding type each one uses ('none' for none). */
const HT_BINDINGS = {
  'HT-SHA-256-EXPR': 'tls-exporter',
  'HT-SHA-256-ENDP': 'tls-server-end-point',
  'HT-SHA-256-UNIQ': 'tls-unique',
  'HT-SHA-256-NONE': 'none',
} as const satisfies Record<string, ChannelBindingType | 'none'>;

export type HtMechanismName = keyof typeof HT_BINDINGS;

/** True when `name` is an HT mechanism this server implements. */
export function isHtMechanism(name: string): name is HtMechanismName {
  return Object.hasOwn(HT_BINDINGS, name);
}

/** Lists the HT mechanisms a connection with these channel bindings supports, those with binding first. */
export function listHtMechanisms(bindings: readonly ChannelBinding[]): HtMechanismName[] {
  const types = new Set<string>(bindings.map((binding) => binding.type));
  return (Object.keys(HT_BINDINGS) as HtMechanismName[]).filter((name) => HT_BINDINGS[name] === 'none' || types.has(HT_BINDINGS[name]));
}

/** Returns the channel binding data `name` covers: empty for -NONE, undefined when the connection lacks the type. */
export function htBindingData(name: HtMechanismName, bindings: readonly ChannelBinding[]): Buffer | undefined {
  const type = HT_BINDINGS[name];
  if (type === 'none') return Buffer.alloc(0);
  return bindings.find((binding) => binding.type === type)?.data;
}

/** The initiator's message: the authentication identity and its proof. */
export interface HtInitiation {
  username: string;
  proof: Buffer;
}

/** Splits the initial response `authcid NUL proof`; undefined when it has no separator or an empty identity. */
export function parseHtInitiation(data: Buffer): HtInitiation | undefined {
  const separator = data.indexOf(0);
  if (separator <= 0) return undefined;
  return { username: data.subarray(0, separator).toString('utf8'), proof: data.subarray(separator + 1) };
}

/** HMAC-SHA-256 keyed with the token over "Initiator" or "Responder" and the channel binding data. */
export function htProof(token: string, label: 'Initiator' | 'Responder', bindingData: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(label).update(bindingData).digest();
}

/** Compares a client's proof with the one `token` gives, in constant time. */
export function htProofMatches(token: string, bindingData: Buffer, proof: Buffer): boolean {
  const expected = htProof(token, 'Initiator', bindingData);
  return proof.length === expected.length && timingSafeEqual(proof, expected);
}
