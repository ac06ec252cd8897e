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
  pushToInterested(ctx.server, user, command('block', added));
  await withdrawPresence(ctx.server, user, added, (stanza) => ctx.filter.allow(stanza));
}

/** Unblocks the items, or everything when there are none; pushes the change and sends the user's presence again. */
export async function unblock(ctx: BlockingContext, request: IqRequest): Promise<void> {
  const user = ownAccount(request);
  const items = readItems(request.payload);
  const everything = items.length === 0;

  const removed = everything ? await ctx.lists.unblockAll(user) : await ctx.lists.unblock(user, items);
  if (everything) pushToInterested(ctx.server, user, command('unblock', []));
  else if (removed.length > 0) pushToInterested(ctx.server, user, command('unblock', removed));
  await restorePresence(ctx.server, user, removed);
}
