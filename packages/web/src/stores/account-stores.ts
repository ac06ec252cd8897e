import { useContacts } from './contacts.js';
import { useConversations } from './conversations.js';
import { useDirectory } from './directory.js';
import { useMessages } from './messages.js';
import { useProfile } from './profile.js';
import { useRooms } from './rooms.js';
import { useSearch } from './search.js';
import { useUploads } from './uploads.js';

/** Functions that detach the stores from the account's connection and data. */
let detachers: (() => void)[] = [];

/** Starts the stores that follow the signed-in account's connection and data. */
export function startAccountStores(): void {
  detachers = [useConversations().attach(), useMessages().attach(), useContacts().attach(), useRooms().attach()];
}

/**
 * Detaches the stores and clears their state, so the next account starts empty.
 * Sign-out calls it before the stream closes, because the closing stream may still deliver
 * events, which the stores would handle with no account signed in.
 */
export function stopAccountStores(): void {
  for (const detach of detachers.splice(0)) detach();
  useUploads().stopAll();
  for (const store of [useConversations(), useMessages(), useContacts(), useRooms(), useProfile(), useDirectory(), useSearch(), useUploads()]) store.$reset();
}
