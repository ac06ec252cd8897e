/**
 * Shared roster groups: members of an org group with `sharedRoster` set (a department,
 * or a group) see each other in their rosters with subscription 'both' and the group's
 * name as roster group, and presence flows between them without subscriptions. The module
 * feeds the roster and presence modules through the roster overlay (roster/overlay.ts) and
 * turns account and group changes into roster pushes and presence.
 */
import { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { defineModule } from '../../core/module.js';
import { KeyedQueue } from '../offline/keyed-queue.js';
import { setRosterOverlay } from '../roster/overlay.js';
import { loadSharedContacts } from './contacts.js';
import { refreshAccount } from './refresh.js';
import { SharedViews } from './views.js';

/** The cluster event that passes an account or group change on to the other nodes. */
const SHARED_CHANGE_EVENT = 'shared-roster/changed';

/** A change to refresh the rosters for: an account (with accounts to leave out) or an org group. */
interface SharedChange {
  account?: string;
  excluded?: string[];
  group?: string;
}

/** Profile fields whose change alters what contacts see: membership, and the name shown. */
const RELEVANT_FIELDS = new Set(['department', 'groups', 'display_name']);

export const sharedRosterModule = defineModule({
  name: 'shared-roster',
  depends: ['roster', 'presence'],
  specs: [],
  setup(ctx) {
    const { server } = ctx;
    const views = new SharedViews();
    const queue = new KeyedQueue();
    setRosterOverlay(server, { sharedContacts: async (user) => [...(await loadSharedContacts(server, user)).values()] });

    // Refreshes run one at a time per account, so that two changes cannot interleave their pushes.
    const refresh = (users: Iterable<string>, excluded: ReadonlySet<string> = new Set()): Promise<void[]> =>
      Promise.all([...new Set(users)].map((user) => queue.run(user, () => refreshAccount(server, views, JID.parse(user), excluded))));

    ctx.on('session/bound', async ({ session }) => {
      const user = session.jid!.bare();
      if (views.get(user.toString()) === undefined) views.set(user.toString(), await loadSharedContacts(server, user));
    });
    ctx.on('session/closed', ({ session }) => {
      if (session.jid && server.sessions.resources(session.jid.bare()).length === 0) views.forget(session.jid.bare().toString());
    });

    // Each cluster node refreshes the accounts with sessions on it, so every change goes to every node.
    const apply = async (change: SharedChange): Promise<void> => {
      if (change.group !== undefined) {
        const members = (await server.storage.orgGroups.members(server.config.domain, change.group)).map((username) => JID.fromParts(username, server.config.domain).toString());
        await refresh([...members, ...views.throughGroup(change.group)]);
        return;
      }
      await refresh(await affectedByAccount(server, views, JID.parse(change.account!)), new Set(change.excluded));
    };
    const changed = async (change: SharedChange): Promise<void> => {
      await apply(change);
      await server.cluster
        ?.relayToAccount(SHARED_CHANGE_EVENT, JID.parse(change.account ?? server.config.domain), JSON.stringify(change), true)
        .catch((err: unknown) => ctx.log.warn({ err }, 'relaying a shared roster change to other nodes failed'));
    };
    server.cluster?.onAccountEvent(SHARED_CHANGE_EVENT, (_user, data) => apply(JSON.parse(data) as SharedChange));

    const accountChanged = async (host: string, username: string, excluded: ReadonlySet<string> = new Set()): Promise<void> => {
      if (host !== server.config.domain) return;
      await changed({ account: JID.fromParts(username, host).toString(), excluded: [...excluded] });
    };
    ctx.on('account/created', ({ host, username }) => accountChanged(host, username));
    ctx.on('account/updated', ({ host, username, changed }) => (changed.some((field) => RELEVANT_FIELDS.has(field)) ? accountChanged(host, username) : undefined));
    ctx.on('account/disabled', ({ host, username }) => accountChanged(host, username));
    ctx.on('account/enabled', ({ host, username }) => accountChanged(host, username));
    // The event fires before the account's rows go, so the account is left out explicitly.
    ctx.on('account/deleted', ({ host, username }) => accountChanged(host, username, new Set([JID.fromParts(username, host).toString()])));

    ctx.on('org/group-changed', async ({ host, id }) => {
      if (host === server.config.domain) await changed({ group: id });
    });
  },
});

/** The account itself, its current shared contacts, and the online accounts that see it now. */
async function affectedByAccount(server: ServerContext, views: SharedViews, user: JID): Promise<string[]> {
  const current = await loadSharedContacts(server, user);
  return [user.toString(), ...current.keys(), ...views.seeing(user.toString())];
}
