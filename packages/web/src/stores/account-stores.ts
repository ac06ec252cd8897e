import { useContacts } from './contacts.js';
import { useConversations } from './conversations.js';
import { useDirectory } from './directory.js';
import { useMessages } from './messages.js';
import { useProfile } from './profile.js';
import { useRooms } from './rooms.js';
import { useSearch } from './search.js';
import { useUploads } from './uploads.js';
import type { AccountServices } from './services.js';

/** Starts the stores that follow the signed-in account's connection and data. */
export function startAccountStores(services: AccountServices): void {
  services.cleanups.push(useConversations().attach(), useMessages().attach(), useContacts().attach(), useRooms().attach());
}

/** Forgets everything the account's stores hold, so the next account starts empty. */
export function stopAccountStores(): void {
  useUploads().stopAll();
  for (const store of [useConversations(), useMessages(), useContacts(), useRooms(), useProfile(), useDirectory(), useSearch(), useUploads()]) store.$reset();
}
