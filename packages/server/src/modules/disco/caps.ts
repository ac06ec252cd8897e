/** Entity capabilities (XEP-0115): the verification string of a disco#info result. */
import { createHash } from 'node:crypto';
import { type Element, NS, x } from '@parley/xmpp';

/** The caps node URI of this software; disco#info for `${CAPS_NODE}#${ver}` returns the host's info. */
export const CAPS_NODE = 'https://parley.im';

interface ExtensionForm {
  formType: string;
  fields: { name: string; values: string[] }[];
}

/** Compares two strings by their UTF-8 bytes: the "i;octet" collation (RFC 4790 section 9.3) that XEP-0115 requires. */
export function compareOctets(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a.charCodeAt(i);
    const right = b.charCodeAt(i);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

/**
 * Ranks a UTF-16 unit so that units compare as the code points they belong to, and so as
 * their UTF-8 bytes: surrogates, which encode code points above U+FFFF, move above U+E000
 * to U+FFFF.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function compareTuples(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareOctets(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/**
 * Builds the string S of XEP-0115 section 5.1 from a disco#info `<query/>`: identities
 * as category/type/lang/name, then features, then XEP-0128 forms by FORM_TYPE, each
 * item followed by '<'. A form without a hidden FORM_TYPE field is left out, as
 * section 5.4 tells the receiving side to ignore it.
 */
export function capsVerificationString(query: Element): string {
  let s = '';

  const identities = query
    .getChildren('identity', NS.DISCO_INFO)
    .map((el) => [el.attr('category') ?? '', el.attr('type') ?? '', el.attr('xml:lang') ?? '', el.attr('name') ?? '']);
  identities.sort(compareTuples);
  for (const identity of identities) s += `${identity.join('/')}<`;

  const features = query.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var') ?? '');
  features.sort(compareOctets);
  for (const feature of features) s += `${feature}<`;

  const forms = query.getChildren('x', NS.DATA_FORMS).flatMap((el) => readExtensionForm(el) ?? []);
  forms.sort((a, b) => compareOctets(a.formType, b.formType));
  for (const form of forms) {
    s += `${form.formType}<`;
    form.fields.sort((a, b) => compareOctets(a.name, b.name));
    for (const field of form.fields) {
      s += `${field.name}<`;
      for (const value of [...field.values].sort(compareOctets)) s += `${value}<`;
    }
  }
  return s;
}

function readExtensionForm(form: Element): ExtensionForm | undefined {
  let formType: string | undefined;
  const fields: ExtensionForm['fields'] = [];
  for (const field of form.getChildren('field', NS.DATA_FORMS)) {
    const name = field.attr('var');
    if (name === undefined) continue;
    const values = field.getChildren('value', NS.DATA_FORMS).map((value) => value.text());
    if (name !== 'FORM_TYPE') fields.push({ name, values });
    else if (field.attr('type') === 'hidden') formType = values[0];
  }
  return formType === undefined ? undefined : { formType, fields };
}

/** Computes the XEP-0115 'ver' of a disco#info `<query/>`: base64 of the SHA-1 of S in UTF-8. */
export function capsHash(query: Element): string {
  return createHash('sha1').update(capsVerificationString(query), 'utf8').digest('base64');
}

/** Builds the `<c/>` element that announces `ver` for CAPS_NODE (XEP-0115 section 6.3 stream feature). */
export function capsElement(ver: string): Element {
  return x('c', NS.CAPS, { hash: 'sha-1', node: CAPS_NODE, ver });
}
