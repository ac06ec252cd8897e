/** XEP-0004 data forms: parsing, building and reading field values. */
import { Element, x } from './xml/element.js';
import { NS } from './ns.js';
import { StanzaError } from './errors.js';

export type FormType = 'form' | 'submit' | 'cancel' | 'result';

export type FieldType =
  | 'boolean'
  | 'fixed'
  | 'hidden'
  | 'jid-multi'
  | 'jid-single'
  | 'list-multi'
  | 'list-single'
  | 'text-multi'
  | 'text-private'
  | 'text-single';

export interface FormOption {
  label?: string;
  value: string;
}

export interface FormField {
  /** Absent only on fixed fields. */
  var?: string;
  /** Absent means text-single (XEP-0004 section 3.2). */
  type?: FieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  values: string[];
  options?: FormOption[];
}

export interface DataForm {
  type: FormType;
  title?: string;
  instructions?: string[];
  fields: FormField[];
  /** Table header of a result form with several items (XEP-0004 section 3.4). */
  reported?: FormField[];
  items?: FormField[][];
}

const FORM_TYPES: ReadonlySet<string> = new Set<FormType>(['form', 'submit', 'cancel', 'result']);
const FIELD_TYPES: ReadonlySet<string> = new Set<FieldType>([
  'boolean',
  'fixed',
  'hidden',
  'jid-multi',
  'jid-single',
  'list-multi',
  'list-single',
  'text-multi',
  'text-private',
  'text-single',
]);
// XEP-0004 section 3.2: only these types may carry more than one <value/>.
const MULTI_VALUE_TYPES: ReadonlySet<string> = new Set<FieldType>(['hidden', 'jid-multi', 'list-multi', 'text-multi']);
const LIST_TYPES: ReadonlySet<string> = new Set<FieldType>(['list-single', 'list-multi']);

function badRequest(text: string): StanzaError {
  return new StanzaError('bad-request', text);
}

/** Reads an `<x xmlns='jabber:x:data'/>` element; throws StanzaError bad-request when it is malformed. */
export function parseForm(el: Element): DataForm {
  if (el.name !== 'x' || el.ns !== NS.DATA_FORMS) throw badRequest('not a jabber:x:data form');
  const type = el.attr('type');
  if (type === undefined || !FORM_TYPES.has(type)) throw badRequest(`unknown data form type "${type ?? ''}"`);

  const form: DataForm = { type: type as FormType, fields: [] };
  const title = el.getChildText('title', NS.DATA_FORMS);
  if (title !== undefined) form.title = title;
  const instructions = el.getChildren('instructions', NS.DATA_FORMS).map((child) => child.text());
  if (instructions.length > 0) form.instructions = instructions;
  form.fields = parseFields(el, false);

  const reported = el.getChild('reported', NS.DATA_FORMS);
  if (reported) form.reported = parseFields(reported, true);
  const items = el.getChildren('item', NS.DATA_FORMS);
  if (items.length > 0) form.items = items.map((item) => parseFields(item, true));
  return form;
}

/** Parses the field children of a form, `<reported/>` or `<item/>`, in document order. */
function parseFields(parent: Element, varRequired: boolean): FormField[] {
  return parent.getChildren('field', NS.DATA_FORMS).map((el) => parseField(el, varRequired));
}

function parseField(el: Element, varRequired: boolean): FormField {
  const type = el.attr('type');
  if (type !== undefined && !FIELD_TYPES.has(type)) throw badRequest(`unknown field type "${type}"`);
  const name = el.attr('var');
  if (name === undefined && (type !== 'fixed' || varRequired)) throw badRequest('field without a var attribute');

  const field: FormField = { values: el.getChildren('value', NS.DATA_FORMS).map((value) => value.text()) };
  if (name !== undefined) field.var = name;
  if (type !== undefined) field.type = type as FieldType;
  const label = el.attr('label');
  if (label !== undefined) field.label = label;
  const desc = el.getChildText('desc', NS.DATA_FORMS);
  if (desc !== undefined) field.desc = desc;
  if (el.getChild('required', NS.DATA_FORMS)) field.required = true;

  checkValues(field);
  const options = el.getChildren('option', NS.DATA_FORMS);
  if (options.length > 0) field.options = parseOptions(options, field);
  return field;
}

function checkValues(field: FormField): void {
  const type = field.type ?? 'text-single';
  if (field.values.length > 1 && !MULTI_VALUE_TYPES.has(type)) {
    throw badRequest(`field "${field.var ?? ''}" of type ${type} has more than one value`);
  }
  if (type === 'boolean') {
    for (const value of field.values) parseBoolean(value);
  }
}

function parseOptions(options: Element[], field: FormField): FormOption[] {
  if (!LIST_TYPES.has(field.type ?? 'text-single')) {
    throw badRequest(`field "${field.var ?? ''}" has options but is not a list-single or list-multi field`);
  }
  return options.map((el) => {
    const values = el.getChildren('value', NS.DATA_FORMS);
    const first = values[0];
    if (values.length !== 1 || first === undefined) throw badRequest('an option needs exactly one value');
    const label = el.attr('label');
    return label === undefined ? { value: first.text() } : { label, value: first.text() };
  });
}

/** Builds the `<x xmlns='jabber:x:data'/>` element for a form. */
export function buildForm(form: DataForm): Element {
  const el = x('x', NS.DATA_FORMS, { type: form.type });
  if (form.title !== undefined) el.append(x('title', NS.DATA_FORMS, {}, form.title));
  for (const line of form.instructions ?? []) el.append(x('instructions', NS.DATA_FORMS, {}, line));
  // The XEP-0004 schema puts fields before <reported/> and the items.
  el.append(...form.fields.map(buildField));
  if (form.reported) el.append(x('reported', NS.DATA_FORMS, {}, ...form.reported.map(buildField)));
  for (const item of form.items ?? []) el.append(x('item', NS.DATA_FORMS, {}, ...item.map(buildField)));
  return el;
}

function buildField(field: FormField): Element {
  const el = x('field', NS.DATA_FORMS, { var: field.var, type: field.type, label: field.label });
  if (field.desc !== undefined) el.append(x('desc', NS.DATA_FORMS, {}, field.desc));
  if (field.required) el.append(x('required', NS.DATA_FORMS));
  for (const value of field.values) el.append(x('value', NS.DATA_FORMS, {}, value));
  for (const option of field.options ?? []) {
    el.append(x('option', NS.DATA_FORMS, { label: option.label }, x('value', NS.DATA_FORMS, {}, option.value)));
  }
  return el;
}

/** Returns the first field with this var, if any. */
export function getField(form: DataForm, name: string): FormField | undefined {
  return form.fields.find((field) => field.var === name);
}

/**
 * Returns the value of the FORM_TYPE field (XEP-0068), which must be hidden; a
 * submitted form may leave out the type attribute.
 */
export function getFormType(form: DataForm): string | undefined {
  const field = getField(form, 'FORM_TYPE');
  if (!field || (field.type !== undefined && field.type !== 'hidden')) return undefined;
  return field.values[0];
}

/** Returns the first value of a field, or undefined when the field or its value is absent. */
export function fieldValue(form: DataForm, name: string): string | undefined {
  return getField(form, name)?.values[0];
}

/** Returns all values of a field, or [] when the field is absent. */
export function fieldValues(form: DataForm, name: string): string[] {
  return getField(form, name)?.values ?? [];
}

/** Reads an XEP-0004 boolean: "1" or "true", "0" or "false"; anything else is bad-request. */
export function parseBoolean(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed === '1' || trimmed === 'true') return true;
  if (trimmed === '0' || trimmed === 'false') return false;
  throw badRequest(`"${value}" is not a boolean`);
}

/** Returns a boolean field's value, or undefined when the field or its value is absent. */
export function fieldBoolean(form: DataForm, name: string): boolean | undefined {
  const value = fieldValue(form, name);
  return value === undefined ? undefined : parseBoolean(value);
}
