/** The blocking commands (XEP-0191 section 3): get the list, block, unblock, and the pushes. */
import { randomBytes } from 'node:crypto';
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import type { BlockFilter } from './filter.js';
import type { BlockLists } from './lists.js';
import { NS_BLOCKING } from './ns.js';
import { restorePresence, withdrawPresence } from './presence.js';

/** Session data key: true once the session requested the block list, so that it receives pushes. */
const INTERESTED = 'blocking.interested';

/** Most JIDs one account may block. */
export const MAX_BLOCKED = 5000;

/** The state that the blocking commands share. */
export interface BlockingContext {
  server: ServerContext;
  lists: BlockLists;
  filter: BlockFilter;
}

/** Returns the user's own bare JID; another account's list is neither read nor changed. */
function ownAccount(request: IqRequest): JID {
  if (!request.self) throw new StanzaError('forbidden', "Another account's block list can't be read or changed.");
  return request.to.bare();
}

/** Reads the `<item jid=.../>` children of a command; throws jid-malformed for an invalid address. */
export function readItems(command: Element): JID[] {
  return command.getChildren('item', NS_BLOCKING).map((item) => {
    const text = item.attr('jid');
    if (text === undefined) throw new StanzaError('bad-request', 'An item needs a jid attribute.');
    const address = JID.parseOrNull(text);
    if (address === null) throw new StanzaError('jid-malformed', `"${text}" is not a valid JID.`);
    return address;
  });
}

function command(name: 'blocklist' | 'block' | 'unblock', items: readonly JID[]): Element {
  return x(name, NS_BLOCKING, {}, ...items.map((item) => x('item', NS_BLOCKING, { jid: item.toString() })));
}

/** Sends `payload` in an IQ set to each resource of `user` that requested the block list. */
function pushToInterested(server: ServerContext, user: JID, payload: Element): void {
  for (const session of server.sessions.resources(user)) {
    if (session.data.get(INTERESTED) !== true) continue;
    const id = `push-${randomBytes(6).toString('hex')}`;
    session.send(x('iq', NS.CLIENT, { type: 'set', id, to: session.jid?.toString() }, payload));
  }
}

function markInterested(session: ClientSession | undefined): void {
  session?.data.set(INTERESTED, true);
}

/** Returns the user's block list and marks the session as interested in pushes. */
export async function getBlocklist(ctx: BlockingContext, request: IqRequest): Promise<Element> {
  const user = ownAccount(request);
  const list = await ctx.lists.get(user);
  markInterested(request.session);
  return command('blocklist', list.items);
}

/** Blocks the items, pushes the ones that are new, and withdraws the user's presence from them. */
export async function block(ctx: BlockingContext, request: IqRequest): Promise<void> {
  const user = ownAccount(request);
  const items = readItems(request.payload);
  if (items.length === 0) throw new StanzaError('bad-request', 'A block command needs at least one item.');
  const current = await ctx.lists.get(user);
  if (current.items.length + items.length > MAX_BLOCKED) {
    throw new StanzaError('policy-violation', `A block list can contain at most ${MAX_BLOCKED} addresses. Unblock some first.`);
  }

  const added = await ctx.lists.block(user, items);
  if (added.length === 0) return;
  await applyChange(ctx, user, { blocked: true, items: added, everything: false });
  relayChange(ctx, user, { blocked: true, items: added, everything: false });
}

/** Unblocks the items, or everything when there are none; pushes the change and sends the user's presence again. */
export async function unblock(ctx: BlockingContext, request: IqRequest): Promise<void> {
  const user = ownAccount(request);
  const items = readItems(request.payload);
  const everything = items.length === 0;

  const removed = everything ? await ctx.lists.unblockAll(user) : await ctx.lists.unblock(user, items);
  if (!everything && removed.length === 0) return;
  await applyChange(ctx, user, { blocked: false, items: removed, everything });
  relayChange(ctx, user, { blocked: false, items: removed, everything });
}

/** A change of a block list, as this node applies it and relays it to the others. */
interface BlockChange {
  blocked: boolean;
  items: JID[];
  /** An unblock of everything, pushed as an empty `<unblock/>`. */
  everything: boolean;
}

/** The cluster event that carries a changed block list to every node. */
export const BLOCK_CHANGE_EVENT = 'blocking/changed';

/** Pushes the change to the user's interested sessions on this node and withdraws or sends again their presence. */
async function applyChange(ctx: BlockingContext, user: JID, change: BlockChange): Promise<void> {
  if (change.blocked) {
    pushToInterested(ctx.server, user, command('block', change.items));
    await withdrawPresence(ctx.server, user, change.items, (stanza) => ctx.filter.allow(stanza));
    return;
  }
  pushToInterested(ctx.server, user, command('unblock', change.everything ? [] : change.items));
  await restorePresence(ctx.server, user, change.items);
}

/** Tells every other node: each drops its cached list and applies the change to its sessions of the user. */
function relayChange(ctx: BlockingContext, user: JID, change: BlockChange): void {
  const data = JSON.stringify({ ...change, items: change.items.map(String) });
  ctx.server.cluster
    ?.relayToAccount(BLOCK_CHANGE_EVENT, user, data, true)
    .catch((err: unknown) => ctx.server.log.warn({ err, user: user.toString() }, 'relaying a block list change to other nodes failed'));
}

/** Handles a block list change another node relayed. */
export async function receiveRelayedChange(ctx: BlockingContext, user: JID, data: string): Promise<void> {
  ctx.lists.forget(user);
  const parsed = JSON.parse(data) as { blocked: boolean; items: string[]; everything: boolean };
  const items = parsed.items.flatMap((item) => JID.parseOrNull(item) ?? []);
  if (ctx.server.sessions.resources(user).length > 0) await applyChange(ctx, user, { ...parsed, items });
}
