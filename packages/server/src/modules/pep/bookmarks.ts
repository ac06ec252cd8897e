/**
 * Native bookmarks (XEP-0402) kept in sync with XEP-0048 bookmarks in private XML storage,
 * the "#compat" feature of XEP-0402 section 5.3. A change to the PEP node rewrites the
 * private `<storage xmlns='storage:bookmarks'/>`. A client that stores that fragment gets
 * its conferences published to and retracted from the node, with notifications for the
 * conferences that changed.
 */
import { type Element, JID, parseFrame, serialize, x } from '@parley/xmpp';
import type { ModuleContext } from '../../core/module.js';
import { privateStorageKey } from '../../storage/index.js';
import type { StoredPepItem } from '../../storage/index.js';
import { defaultConfig, effectiveMaxItems } from './config.js';
import { retractEvent } from './events.js';
import { NS_BOOKMARKS, NS_LEGACY_BOOKMARKS } from './ns.js';
import { type PepService, eventItems, parsePayload } from './service.js';

const LEGACY_KEY = privateStorageKey(NS_LEGACY_BOOKMARKS, 'storage');

/** The fields both bookmark formats share. */
interface Conference {
  jid: string;
  name: string | undefined;
  autojoin: boolean;
  nick: string | undefined;
  password: string | undefined;
}

function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

function readConference(jid: string, element: Element | undefined): Conference {
  return {
    jid,
    name: element?.attr('name'),
    autojoin: isTrue(element?.attr('autojoin')),
    nick: element?.getChildText('nick', element.ns),
    password: element?.getChildText('password', element.ns),
  };
}

function sameConference(a: Conference, b: Conference): boolean {
  return a.name === b.name && a.autojoin === b.autojoin && a.nick === b.nick && a.password === b.password;
}

/** Builds `<conference/>` in `ns`: with a jid attribute for XEP-0048, and `extensions` kept for XEP-0402. */
function conferenceElement(conference: Conference, ns: string, extensions?: Element): Element {
  const attrs = { jid: ns === NS_LEGACY_BOOKMARKS ? conference.jid : undefined, name: conference.name, autojoin: conference.autojoin ? 'true' : undefined };
  return x(
    'conference',
    ns,
    attrs,
    conference.nick === undefined ? undefined : x('nick', ns, {}, conference.nick),
    conference.password === undefined ? undefined : x('password', ns, {}, conference.password),
    extensions,
  );
}

function parseStored(xml: string): Element {
  return parseFrame(xml, { maxStanzaBytes: xml.length * 3 + 1 });
}

/** Rewrites the private XML storage bookmarks from the PEP node, keeping the `<url/>` bookmarks that only XEP-0048 has. */
async function writeLegacy(service: PepService, owner: JID): Promise<void> {
  const { storage } = service.server;
  const items = await storage.pep.items(owner.domain, owner.local, NS_BOOKMARKS);
  const stored = await storage.privateStorage.get(owner.domain, owner.local, LEGACY_KEY);
  const urls = stored === null ? [] : parseStored(stored).getChildren('url', NS_LEGACY_BOOKMARKS);

  const conferences = items.map((item) => conferenceElement(readConference(item.id, parsePayload(item.payload)[0]), NS_LEGACY_BOOKMARKS));
  const legacy = x('storage', NS_LEGACY_BOOKMARKS, {}, ...conferences, ...urls);
  await storage.privateStorage.set(owner.domain, owner.local, LEGACY_KEY, serialize(legacy));
}

/** Reads the conferences of a XEP-0048 `<storage/>`, by room JID, skipping invalid JIDs. */
function legacyConferences(storageElement: Element): Map<string, Conference> {
  const conferences = new Map<string, Conference>();
  for (const element of storageElement.getChildren('conference', NS_LEGACY_BOOKMARKS)) {
    const jid = JID.parseOrNull(element.attr('jid') ?? '');
    if (jid === null || jid.local === '') continue;
    conferences.set(jid.bare().toString(), readConference(jid.bare().toString(), element));
  }
  return conferences;
}

/** Publishes and retracts items of the PEP node so that it contains the conferences of a XEP-0048 `<storage/>`. */
async function writeNative(service: PepService, owner: JID, storageElement: Element): Promise<void> {
  const { pep } = service.server.storage;
  const wanted = legacyConferences(storageElement);
  const node = (await service.node(owner, NS_BOOKMARKS)) ?? { name: NS_BOOKMARKS, config: defaultConfig(NS_BOOKMARKS) };
  const current = new Map<string, StoredPepItem>((await pep.items(owner.domain, owner.local, NS_BOOKMARKS)).map((item) => [item.id, item]));
  if (current.size === 0 && wanted.size === 0) return;

  for (const [jid, conference] of wanted) {
    const existing = current.get(jid);
    const existingPayload = existing === undefined ? undefined : parsePayload(existing.payload)[0];
    if (existing !== undefined && sameConference(readConference(jid, existingPayload), conference)) continue;

    const extensions = existingPayload?.getChild('extensions', NS_BOOKMARKS);
    const item = { id: jid, payload: serialize(conferenceElement(conference, NS_BOOKMARKS, extensions)), publisher: owner.toString(), publishedAt: Date.now() };
    const options = { createConfig: JSON.stringify(node.config), maxItems: effectiveMaxItems(node.config, service.limits), persist: true };
    await pep.publish(owner.domain, owner.local, NS_BOOKMARKS, item, options);
    await service.notify(owner, node, () => eventItems(NS_BOOKMARKS, [item], node.config.deliverPayloads));
  }

  for (const id of current.keys()) {
    if (wanted.has(id) || !(await pep.retract(owner.domain, owner.local, NS_BOOKMARKS, id))) continue;
    if (node.config.notifyRetract) await service.notify(owner, node, () => retractEvent(NS_BOOKMARKS, id));
  }
}

/** Registers both directions of the synchronisation. */
export function syncBookmarks(ctx: ModuleContext, service: PepService): void {
  const changed = async (owner: JID, node: string) => {
    if (node === NS_BOOKMARKS) await writeLegacy(service, owner);
  };
  service.listeners.push({ published: changed, retracted: changed, purged: changed });

  ctx.on('private/stored', async ({ user, fragments }) => {
    const legacy = fragments.find((fragment) => fragment.name === 'storage' && fragment.ns === NS_LEGACY_BOOKMARKS);
    if (legacy !== undefined) await writeNative(service, user, legacy);
  });
}
