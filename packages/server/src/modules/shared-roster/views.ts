/**
 * What each online account was last shown of its shared contacts, so that a change of
 * groups, members or names becomes roster pushes and presence for exactly the items that
 * changed. Offline accounts have no view: their next roster get shows the current state.
 */
import type { SharedEntry } from './contacts.js';

export type SharedView = Map<string, SharedEntry>;

export class SharedViews {
  private readonly views = new Map<string, SharedView>();
  /** Online accounts whose view contains a contact, by the contact's bare JID. */
  private readonly byContact = new Map<string, Set<string>>();
  /** Online accounts whose view contains a contact through a group, by group id. */
  private readonly byGroup = new Map<string, Set<string>>();

  get(user: string): SharedView | undefined {
    return this.views.get(user);
  }

  set(user: string, view: SharedView): void {
    this.forget(user);
    this.views.set(user, view);
    for (const entry of view.values()) {
      addTo(this.byContact, entry.contact, user);
      for (const id of entry.groupIds) addTo(this.byGroup, id, user);
    }
  }

  forget(user: string): void {
    const view = this.views.get(user);
    if (view === undefined) return;
    this.views.delete(user);
    for (const entry of view.values()) {
      removeFrom(this.byContact, entry.contact, user);
      for (const id of entry.groupIds) removeFrom(this.byGroup, id, user);
    }
  }

  /** Online accounts that see `contact` as a shared contact. */
  seeing(contact: string): string[] {
    return [...(this.byContact.get(contact) ?? [])];
  }

  /** Online accounts that see someone through the group `id`. */
  throughGroup(id: string): string[] {
    return [...(this.byGroup.get(id) ?? [])];
  }
}

function addTo(index: Map<string, Set<string>>, key: string, user: string): void {
  let users = index.get(key);
  if (users === undefined) {
    users = new Set();
    index.set(key, users);
  }
  users.add(user);
}

function removeFrom(index: Map<string, Set<string>>, key: string, user: string): void {
  const users = index.get(key);
  users?.delete(user);
  if (users?.size === 0) index.delete(key);
}
