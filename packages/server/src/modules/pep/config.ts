/** Node configuration (XEP-0060 section 8.2) of PEP nodes, with publish options (XEP-0060 section 7.1.5). */
import { type DataForm, type FormField, StanzaError } from '@parley/xmpp';
import { preconditionNotMet } from './errors.js';
import { FORM_NODE_CONFIG, NS_BOOKMARKS, NS_LEGACY_BOOKMARKS, NS_MDS } from './ns.js';

export type AccessModel = 'open' | 'presence' | 'roster' | 'whitelist';
export type SendLastPublished = 'never' | 'on_sub' | 'on_sub_and_presence';

/** The configuration of one node, stored as JSON. */
export interface NodeConfig {
  accessModel: AccessModel;
  /** Roster groups whose members may read a node with the 'roster' access model. */
  rosterGroups: string[];
  persistItems: boolean;
  /** Items the node keeps; 'max' is the server's limit. */
  maxItems: number | 'max';
  sendLastPublished: SendLastPublished;
  deliverNotifications: boolean;
  deliverPayloads: boolean;
  notifyRetract: boolean;
  notifyDelete: boolean;
  title: string;
}

/** Server limits that bound a configuration. */
export interface PepLimits {
  maxItemsPerNode: number;
}

const ACCESS_MODELS: readonly AccessModel[] = ['open', 'presence', 'roster', 'whitelist'];
const SEND_LAST_VALUES: readonly SendLastPublished[] = ['never', 'on_sub', 'on_sub_and_presence'];

/** Nodes that hold private data by convention and so default to the whitelist model (XEP-0402 section 3.1, XEP-0048, XEP-0490 section 5). */
const PRIVATE_NODES: ReadonlySet<string> = new Set([NS_BOOKMARKS, NS_LEGACY_BOOKMARKS, NS_MDS]);

/**
 * Returns the configuration a new node gets: the defaults of XEP-0163 section 8 (presence
 * access, send the last item on presence) with one item. Bookmark and displayed
 * synchronization nodes get the whitelist model, keep every item and send nothing on presence.
 */
export function defaultConfig(node: string): NodeConfig {
  const base: NodeConfig = {
    accessModel: 'presence',
    rosterGroups: [],
    persistItems: true,
    maxItems: 1,
    sendLastPublished: 'on_sub_and_presence',
    deliverNotifications: true,
    deliverPayloads: true,
    notifyRetract: true,
    notifyDelete: true,
    title: '',
  };
  if (PRIVATE_NODES.has(node)) return { ...base, accessModel: 'whitelist', maxItems: 'max', sendLastPublished: 'never' };
  return base;
}

/** Returns the number of items the node keeps under `limits`. */
export function effectiveMaxItems(config: NodeConfig, limits: PepLimits): number {
  return config.maxItems === 'max' ? limits.maxItemsPerNode : Math.min(config.maxItems, limits.maxItemsPerNode);
}

/** Reads a stored configuration; fields missing from older rows take the node's defaults. */
export function parseStoredConfig(node: string, json: string): NodeConfig {
  return { ...defaultConfig(node), ...(JSON.parse(json) as Partial<NodeConfig>) };
}

/** One configuration field: how it reads a submitted value and how it shows the current one. */
interface FieldSpec {
  type: NonNullable<FormField['type']>;
  label: string;
  options?: readonly string[];
  read(values: string[], limits: PepLimits): Partial<NodeConfig>;
  show(config: NodeConfig): string[];
}

function single(name: string, values: string[]): string {
  if (values.length !== 1) throw new StanzaError('not-acceptable', `The field ${name} needs exactly one value.`);
  return values[0]!.trim();
}

function readBoolean(name: string, values: string[]): boolean {
  const value = single(name, values);
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new StanzaError('not-acceptable', `The field ${name} is a boolean; "${value}" is not one.`);
}

function readChoice<T extends string>(name: string, values: string[], allowed: readonly T[]): T {
  const value = single(name, values);
  if (!(allowed as readonly string[]).includes(value)) throw new StanzaError('not-acceptable', `The field ${name} must be one of ${allowed.join(', ')}; "${value}" is not.`);
  return value as T;
}

function readMaxItems(values: string[], limits: PepLimits): number | 'max' {
  const value = single('pubsub#max_items', values);
  if (value === 'max') return 'max';
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new StanzaError('not-acceptable', `pubsub#max_items must be "max" or a positive integer; "${value}" is not.`);
  const count = Number(value);
  if (count > limits.maxItemsPerNode) {
    throw new StanzaError('not-acceptable', `pubsub#max_items ${count} is above the server's limit of ${limits.maxItemsPerNode} items per node.`);
  }
  return count;
}

const boolean = (label: string, key: 'persistItems' | 'deliverNotifications' | 'deliverPayloads' | 'notifyRetract' | 'notifyDelete', name: string): FieldSpec => ({
  type: 'boolean',
  label,
  read: (values) => ({ [key]: readBoolean(name, values) }),
  show: (config) => [config[key] ? '1' : '0'],
});

/** The configuration fields this server supports, by var. */
const FIELDS: Record<string, FieldSpec> = {
  'pubsub#title': { type: 'text-single', label: 'A short name for the node', read: (values) => ({ title: values[0] ?? '' }), show: (config) => [config.title] },
  'pubsub#access_model': {
    type: 'list-single',
    label: 'Who may read items and receive notifications',
    options: ACCESS_MODELS,
    read: (values) => ({ accessModel: readChoice('pubsub#access_model', values, ACCESS_MODELS) }),
    show: (config) => [config.accessModel],
  },
  'pubsub#roster_groups_allowed': {
    type: 'list-multi',
    label: 'Roster groups allowed under the roster access model',
    read: (values) => ({ rosterGroups: [...new Set(values)] }),
    show: (config) => config.rosterGroups,
  },
  'pubsub#persist_items': boolean('Store items', 'persistItems', 'pubsub#persist_items'),
  'pubsub#max_items': {
    type: 'text-single',
    label: 'Items the node keeps ("max" for the server limit)',
    read: (values, limits) => ({ maxItems: readMaxItems(values, limits) }),
    show: (config) => [String(config.maxItems)],
  },
  'pubsub#send_last_published_item': {
    type: 'list-single',
    label: 'When to send the last published item',
    options: SEND_LAST_VALUES,
    read: (values) => ({ sendLastPublished: readChoice('pubsub#send_last_published_item', values, SEND_LAST_VALUES) }),
    show: (config) => [config.sendLastPublished],
  },
  'pubsub#deliver_notifications': boolean('Send event notifications', 'deliverNotifications', 'pubsub#deliver_notifications'),
  'pubsub#deliver_payloads': boolean('Include payloads in notifications', 'deliverPayloads', 'pubsub#deliver_payloads'),
  'pubsub#notify_retract': boolean('Notify when items are retracted', 'notifyRetract', 'pubsub#notify_retract'),
  'pubsub#notify_delete': boolean('Notify when the node is deleted', 'notifyDelete', 'pubsub#notify_delete'),
  'pubsub#publish_model': {
    type: 'list-single',
    label: 'Who may publish',
    options: ['publishers'],
    read: (values) => {
      readChoice('pubsub#publish_model', values, ['publishers']);
      return {};
    },
    show: () => ['publishers'],
  },
};

/** Returns the submitted fields of a form without FORM_TYPE. */
function submittedFields(form: DataForm): FormField[] {
  return form.fields.filter((field) => field.var !== undefined && field.var !== 'FORM_TYPE');
}

/**
 * Returns `config` changed by the fields of a submitted configuration form. Throws
 * not-acceptable for an unknown field or an invalid value (XEP-0060 section 8.2.5).
 */
export function applyConfigForm(config: NodeConfig, form: DataForm, limits: PepLimits): NodeConfig {
  let result = { ...config };
  for (const field of submittedFields(form)) {
    const spec = FIELDS[field.var!];
    if (spec === undefined) throw new StanzaError('not-acceptable', `The node configuration field ${field.var} is not supported.`);
    result = { ...result, ...spec.read(field.values, limits) };
  }
  return result;
}

function sameValues(a: string[], b: string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/**
 * Checks publish options against an existing node's configuration (XEP-0060 section
 * 7.1.5). Every option must name a supported field whose value, read the way a
 * configuration form is read, equals the node's. Otherwise it throws precondition-not-met.
 */
export function checkPreconditions(config: NodeConfig, options: DataForm, limits: PepLimits): void {
  for (const field of submittedFields(options)) {
    const spec = FIELDS[field.var!];
    if (spec === undefined) throw preconditionNotMet(`The publish option ${field.var} is not supported.`);

    let wanted: NodeConfig;
    try {
      wanted = { ...config, ...spec.read(field.values, limits) };
    } catch (error) {
      if (error instanceof StanzaError) throw preconditionNotMet(`The publish option ${field.var} is invalid: ${error.text ?? error.condition}`);
      throw error;
    }

    const matches =
      field.var === 'pubsub#max_items' ? effectiveMaxItems(wanted, limits) === effectiveMaxItems(config, limits) : sameValues(spec.show(wanted), spec.show(config));
    if (!matches) throw preconditionNotMet(`The node's ${field.var} is "${spec.show(config).join(', ')}", not "${field.values.join(', ')}".`);
  }
}

/**
 * Returns the configuration for a node that publish options create (XEP-0060 section
 * 7.1.5): the defaults changed by the options. An invalid option is precondition-not-met.
 */
export function configFromPublishOptions(node: string, options: DataForm | undefined, limits: PepLimits): NodeConfig {
  if (options === undefined) return defaultConfig(node);
  try {
    return applyConfigForm(defaultConfig(node), options, limits);
  } catch (error) {
    if (error instanceof StanzaError) throw preconditionNotMet(error.text ?? 'The publish options are invalid.');
    throw error;
  }
}

/** Builds the configuration form of a node (XEP-0060 section 8.2.1) with its current values. */
export function buildConfigForm(config: NodeConfig): DataForm {
  const fields: FormField[] = [{ var: 'FORM_TYPE', type: 'hidden', values: [FORM_NODE_CONFIG] }];
  for (const [name, spec] of Object.entries(FIELDS)) {
    const field: FormField = { var: name, type: spec.type, label: spec.label, values: spec.show(config) };
    if (spec.options) field.options = spec.options.map((value) => ({ value }));
    fields.push(field);
  }
  return { type: 'form', fields };
}
