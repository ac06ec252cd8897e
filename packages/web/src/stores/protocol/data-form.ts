import { x, type XElement } from '../../xmpp/index.js';
import { NS } from './ns.js';

/** One field of a data form (XEP-0004). */
export interface FormField {
  var: string;
  type: string;
  label?: string;
  values: string[];
}

export function parseFields(form: XElement | undefined): FormField[] {
  return (form?.getChildren('field', NS.DATA) ?? []).map((field) => ({
    var: field.attr('var') ?? '',
    type: field.attr('type') ?? 'text-single',
    label: field.attr('label'),
    values: field.getChildren('value', NS.DATA).map((value) => value.text()),
  }));
}

/** Builds a submit form with these values; FORM_TYPE goes in as a hidden field when given. */
export function submitForm(values: Record<string, string | string[]>, formType?: string): XElement {
  const form = x('x', NS.DATA, { type: 'submit' });
  if (formType) form.append(x('field', NS.DATA, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA, {}, formType)));
  for (const [name, value] of Object.entries(values)) {
    const list = Array.isArray(value) ? value : [value];
    form.append(x('field', NS.DATA, { var: name }, ...list.map((item) => x('value', NS.DATA, {}, item))));
  }
  return form;
}

/** Reads the rows of a result form: each item's fields by var (first value). */
export function parseItems(form: XElement): Record<string, string>[] {
  return form.getChildren('item', NS.DATA).map((item) => {
    const row: Record<string, string> = {};
    for (const field of parseFields(item)) row[field.var] = field.values[0] ?? '';
    return row;
  });
}
