/** Private XML Storage (XEP-0049): XML fragments that only their owner reads and writes. */
import { type Element, NS, StanzaError, parseFrame, serialize, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { privateStorageKey } from '../../storage/index.js';

/**
 * Namespaces a fragment may not use. XEP-0049 section 2.3 lets a server reject reserved
 * namespaces with not-acceptable; these are the ones whose elements have a protocol meaning
 * of their own, plus the storage namespace itself (a child that did not declare a namespace).
 */
const RESERVED_NAMESPACES: ReadonlySet<string> = new Set([NS.CLIENT, NS.SERVER, NS.DATA_FORMS, NS.PRIVATE]);

/** Checks the children of a query and returns them; throws the errors of XEP-0049 section 2.3. */
function fragmentsOf(request: IqRequest): Element[] {
  if (!request.self) throw new StanzaError('forbidden', "Private XML storage of another account can't be read or written.");

  const fragments = request.payload.elements();
  // Section 2.3 requires not-acceptable when no child with a namespace of its own is given.
  if (fragments.length === 0) throw new StanzaError('not-acceptable', 'The query must contain one element in its own namespace.');
  for (const fragment of fragments) {
    if (RESERVED_NAMESPACES.has(fragment.ns)) {
      throw new StanzaError('not-acceptable', `The namespace "${fragment.ns}" is reserved and can't be used for private XML storage.`);
    }
  }
  return fragments;
}

/** Parses XML this server serialized; a UTF-16 unit takes at most 3 bytes in UTF-8. */
function parseStored(xml: string): Element {
  return parseFrame(xml, { maxStanzaBytes: xml.length * 3 + 1 });
}

async function getFragment(server: ServerContext, request: IqRequest): Promise<Element> {
  const fragments = fragmentsOf(request);
  if (fragments.length > 1) throw new StanzaError('bad-request', 'A get must ask for exactly one element (XEP-0049 section 2.3).');

  const requested = fragments[0]!;
  const key = privateStorageKey(requested.ns, requested.name);
  const stored = await server.storage.privateStorage.get(request.to.domain, request.to.local, key);
  // A fragment never stored comes back as the empty element that was asked for.
  const fragment = stored === null ? x(requested.name, requested.ns) : parseStored(stored);
  return x('query', NS.PRIVATE, {}, fragment);
}

async function setFragments(server: ServerContext, request: IqRequest): Promise<void> {
  const fragments = fragmentsOf(request);
  // TODO: limit the number and total size of fragments per account; only the stanza size limit bounds them now.
  for (const fragment of fragments) {
    const key = privateStorageKey(fragment.ns, fragment.name);
    await server.storage.privateStorage.set(request.to.domain, request.to.local, key, serialize(fragment));
  }
  await server.hooks.fire('private/stored', { user: request.to.bare(), fragments });
}

export const privateStorageModule = defineModule({
  name: 'private',
  specs: [{ spec: 'XEP-0049', version: '1.2', status: 'complete', note: 'reserved: jabber:client, jabber:server, jabber:x:data, jabber:iq:private' }],
  setup(ctx) {
    const { server } = ctx;
    server.disco.addHostFeature(NS.PRIVATE);
    server.disco.addAccountFeature(NS.PRIVATE);
    ctx.iq('get', 'account', NS.PRIVATE, 'query', (request) => getFragment(server, request));
    ctx.iq('set', 'account', NS.PRIVATE, 'query', (request) => setFragments(server, request));
  },
});
