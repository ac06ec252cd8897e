import { NS } from '../ns.js';
import { Element } from './element.js';
import { XmlParseError, notWellFormed } from './parser-error.js';
import type { StartTag } from './parser-tag.js';

/** Namespace bindings in scope at an element. */
export interface NamespaceScope {
  defaultNs: string;
  /** Prefix bindings other than the predeclared 'xml', or null when there are none. */
  prefixes: Map<string, string> | null;
}

/** An element built from a start tag, and the scope its children inherit. */
export interface ResolvedElement {
  element: Element;
  scope: NamespaceScope;
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * Builds the element for a start tag, applying the tag's own namespace declarations on top
 * of `parent` (Namespaces in XML 1.0). `xmlns` is left out of attrs unless `keepDefaultNs`
 * is set, for the stream header that reports its content namespace there. An `xmlns:p`
 * declaration goes into attrs when an attribute of this element uses the prefix p, so that
 * the element serializes on its own.
 */
export function resolveElement(tag: StartTag, parent: NamespaceScope, keepDefaultNs: boolean): ResolvedElement {
  checkDuplicateNames(tag);
  const scope = declareNamespaces(tag, parent);

  const colon = tag.name.indexOf(':');
  const element =
    colon === -1
      ? new Element(tag.name, scope.defaultNs)
      : new Element(tag.name.slice(colon + 1), lookupPrefix(tag.name.slice(0, colon), scope, tag.name));
  element.attrs = buildAttrs(tag, scope, keepDefaultNs);
  return { element, scope };
}

/** Returns `parent`, or a new scope when the tag declares namespaces. */
function declareNamespaces(tag: StartTag, parent: NamespaceScope): NamespaceScope {
  let scope = parent;
  for (let i = 0; i < tag.attrNames.length; i++) {
    const name = tag.attrNames[i] ?? '';
    if (!isDeclaration(name)) continue;
    const uri = tag.attrValues[i] ?? '';
    if (scope === parent) scope = { defaultNs: parent.defaultNs, prefixes: parent.prefixes };

    if (name.length === 5) {
      if (uri === NS.XML || uri === XMLNS_NS) throw notWellFormed(`'${uri}' cannot be the default namespace`);
      scope.defaultNs = uri;
      continue;
    }
    const prefix = name.slice(6);
    checkPrefixBinding(prefix, uri);
    if (prefix === 'xml') continue;
    if (scope.prefixes === parent.prefixes) scope.prefixes = new Map(parent.prefixes ?? []);
    scope.prefixes?.set(prefix, uri);
  }
  return scope;
}

function buildAttrs(tag: StartTag, scope: NamespaceScope, keepDefaultNs: boolean): Record<string, string> {
  const attrs: Record<string, string> = {};
  let prefixed: string[] | null = null;
  for (let i = 0; i < tag.attrNames.length; i++) {
    const name = tag.attrNames[i] ?? '';
    const value = tag.attrValues[i] ?? '';
    if (isDeclaration(name)) {
      if (keepDefaultNs && name.length === 5) attrs.xmlns = value;
      continue;
    }
    if (name.indexOf(':') !== -1) (prefixed ??= []).push(name);
    setOwn(attrs, name, value);
  }
  if (prefixed !== null) declareUsedPrefixes(attrs, prefixed, scope, tag.name);
  return attrs;
}

/** Resolves the prefixes of prefixed attributes and adds the `xmlns:p` declarations they need. */
function declareUsedPrefixes(attrs: Record<string, string>, names: string[], scope: NamespaceScope, tagName: string): void {
  const expandedNames = new Set<string>();
  for (const name of names) {
    const colon = name.indexOf(':');
    const prefix = name.slice(0, colon);
    const uri = lookupPrefix(prefix, scope, name);
    const expandedName = `{${uri}}${name.slice(colon + 1)}`;
    if (expandedNames.has(expandedName)) {
      throw notWellFormed(`Tag '${tagName}' has two attributes named ${expandedName}`);
    }
    expandedNames.add(expandedName);
    if (prefix !== 'xml') attrs[`xmlns:${prefix}`] = uri;
  }
}

function lookupPrefix(prefix: string, scope: NamespaceScope, qualifiedName: string): string {
  if (prefix === 'xml') return NS.XML;
  const uri = scope.prefixes?.get(prefix);
  if (uri === undefined) {
    throw new XmlParseError('bad-namespace-prefix', `Namespace prefix '${prefix}' of '${qualifiedName}' is not declared`);
  }
  return uri;
}

/** Enforces the reserved prefixes and namespaces of Namespaces in XML 1.0 section 3. */
function checkPrefixBinding(prefix: string, uri: string): void {
  if (prefix === 'xmlns') throw notWellFormed("The prefix 'xmlns' cannot be declared");
  if (prefix === 'xml') {
    if (uri !== NS.XML) throw notWellFormed(`The prefix 'xml' cannot be bound to '${uri}'`);
    return;
  }
  if (uri === NS.XML || uri === XMLNS_NS) throw notWellFormed(`The prefix '${prefix}' cannot be bound to '${uri}'`);
  if (uri === '') throw notWellFormed(`The prefix '${prefix}' cannot be bound to an empty namespace name`);
}

function checkDuplicateNames(tag: StartTag): void {
  const names = tag.attrNames;
  if (names.length < 2) return;
  if (names.length <= 8) {
    for (let i = 1; i < names.length; i++) {
      for (let j = 0; j < i; j++) {
        if (names[i] === names[j]) throw duplicateAttribute(tag.name, names[i] ?? '');
      }
    }
    return;
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw duplicateAttribute(tag.name, name);
    seen.add(name);
  }
}

function duplicateAttribute(tagName: string, name: string): XmlParseError {
  return notWellFormed(`Tag '${tagName}' has attribute '${name}' twice`);
}

function isDeclaration(name: string): boolean {
  return name.startsWith('xmlns') && (name.length === 5 || name.charCodeAt(5) === 0x3a);
}

/** Sets attrs[name], also for the name '__proto__', which a plain assignment would not store. */
function setOwn(attrs: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
  else attrs[name] = value;
}
