/** Keeps the directory's search index in step with accounts, profiles and department names. */
import type { ServerContext } from '../../core/context.js';
import type { DirectoryTerms } from '../../storage/index.js';
import { addressTerms, nameTerms, normalizeText } from './terms.js';

/** Accounts indexed per batch when the index is filled at start. */
const BACKFILL_BATCH = 500;

/**
 * Writes the account's entry and terms from its profile and department, or removes it
 * from the index when the account no longer exists. Returns the department id it indexed.
 */
export async function indexAccount(server: ServerContext, host: string, username: string): Promise<string | null> {
  const { storage } = server;
  if (!(await storage.accounts.exists(host, username))) {
    await storage.directory.remove(host, username);
    return null;
  }

  const profile = await storage.profiles.get(host, username);
  const department = profile?.department ? await storage.orgGroups.get(host, profile.department) : null;
  const entry = {
    host,
    username,
    displayName: profile?.displayName ?? null,
    email: profile?.email ?? null,
    title: profile?.title ?? null,
    departmentId: department?.id ?? null,
    departmentName: department?.name ?? null,
  };

  const text = new Set([...addressTerms(username), ...nameTerms(entry.displayName ?? ''), ...addressTerms(entry.email ?? '')]);
  const terms: DirectoryTerms = { text, title: nameTerms(entry.title ?? '') };
  if (department) terms.department = new Set([...nameTerms(department.name), normalizeText(department.id)]);
  await storage.directory.put(entry, terms);
  return entry.departmentId;
}

/** Reindexes every member of the department, so that results and department searches use its current name. */
export async function reindexDepartment(server: ServerContext, host: string, departmentId: string): Promise<void> {
  const members = new Set([...(await server.storage.orgGroups.members(host, departmentId)), ...(await server.storage.directory.membersOfDepartment(host, departmentId))]);
  for (const username of members) await indexAccount(server, host, username);
}

/**
 * Reindexes the department's members when the index still has another name for it. The
 * account service renames a department as a side effect of an account update, without an
 * event of its own.
 */
export async function refreshDepartmentName(server: ServerContext, host: string, departmentId: string): Promise<void> {
  const group = await server.storage.orgGroups.get(host, departmentId);
  if (group === null) return;
  if (await server.storage.directory.hasStaleDepartmentName(host, departmentId, group.name)) await reindexDepartment(server, host, departmentId);
}

/** Indexes the accounts that have no entry yet, such as accounts created before the directory existed. */
export async function backfillIndex(server: ServerContext, host: string): Promise<number> {
  let indexed = 0;
  let previous: string | undefined;
  for (;;) {
    const usernames = await server.storage.directory.unindexedAccounts(host, BACKFILL_BATCH);
    // An account deleted meanwhile is skipped by indexAccount; a batch that starts where the last did made no progress.
    if (usernames.length === 0 || usernames[0] === previous) return indexed;
    previous = usernames[0];
    for (const username of usernames) await indexAccount(server, host, username);
    indexed += usernames.length;
  }
}
