/**
 * Writes an account's profile (admin API, import) into its vCard (XEP-0054) and passes a
 * changed profile avatar on as 'avatar/changed', so that the vCard PHOTO, the PEP avatar
 * and the presence hash follow.
 */
import type { ServerContext } from '../../core/context.js';
import { type ProfileFields, applyProfileFields, profileFields } from './profile-fields.js';
import { emptyVcard, loadVcard, saveVcard } from './storage.js';

/** The vCard field each profile field of 'account/updated' writes. */
const FIELD_OF_CHANGE: Record<string, keyof ProfileFields> = {
  display_name: 'fullName',
  email: 'email',
  phone: 'phone',
  department: 'org',
  title: 'title',
};

/**
 * Brings the vCard in step with the profile. `changed` lists the profile fields to write
 * (their API names); undefined writes every field the profile sets, as for a new account.
 */
export async function syncProfile(server: ServerContext, host: string, username: string, changed?: string[]): Promise<void> {
  const profile = await server.storage.profiles.get(host, username);
  if (profile === null) return;

  const fields = changed === undefined ? undefined : new Set(changed.flatMap((field) => FIELD_OF_CHANGE[field] ?? []));
  if (fields === undefined || fields.size > 0) await writeFields(server, host, username, fields);

  if (changed === undefined ? profile.avatarSha1 !== null : changed.includes('avatar')) {
    const stored = await server.storage.profiles.getAvatar(host, username);
    const avatar = stored === null ? null : { type: stored.type, sha1: stored.sha1, data: stored.data };
    await server.hooks.fire('avatar/changed', { host, username, avatar, source: 'profile' });
  }
}

/** Rewrites ORG/ORGUNIT of the department's members after the department was renamed. */
export async function syncDepartmentName(server: ServerContext, host: string, departmentId: string): Promise<void> {
  for (const username of await server.storage.orgGroups.members(host, departmentId)) {
    await writeFields(server, host, username, new Set(['org']));
  }
}

async function writeFields(server: ServerContext, host: string, username: string, fields: Set<keyof ProfileFields> | undefined): Promise<void> {
  const profile = await server.storage.profiles.get(host, username);
  if (profile === null) return;
  const department = profile.department === null ? null : await server.storage.orgGroups.get(host, profile.department);
  let values = profileFields(profile, server.config.directory.organization, department?.name ?? null, fields);
  // A new account gets the fields its profile sets; empty ones leave what the vCard has.
  if (fields === undefined) values = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null)) as ProfileFields;

  const current = (await loadVcard(server, host, username)) ?? emptyVcard();
  const next = applyProfileFields(current, values);
  if (next.toString() !== current.toString()) await saveVcard(server, host, username, next);
}
