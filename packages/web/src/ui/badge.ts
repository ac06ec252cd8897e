// The unread total outside the page: in the tab title ("(3) Parley") and on the installed
// app's icon (the Badging API, where the browser has it).
import { watch } from 'vue';
import { useConversations, useSession } from '../stores/index.js';

interface BadgingNavigator {
  setAppBadge?(count?: number): Promise<void>;
  clearAppBadge?(): Promise<void>;
}

/** Writes `count` to the document title and the app badge; 0 clears both. */
export function showUnreadCount(count: number, appName: string): void {
  document.title = count > 0 ? `(${count}) ${appName}` : appName;

  const badging = navigator as BadgingNavigator;
  const done = count > 0 ? badging.setAppBadge?.(count) : badging.clearAppBadge?.();
  // Browsers reject badges outside an installed app or without permission; the title still shows the count.
  done?.catch(() => undefined);
}

/**
 * Follows the unread total of the conversations that are not muted while an account is signed
 * in. `appName` is read on each change, so a language switch renames the title. Returns the stop function.
 * NOTE: the total covers the conversation list's window (the first 50 to 1,000 rows), as the screens do.
 */
export function startUnreadBadge(appName: () => string): () => void {
  const conversations = useConversations();
  const session = useSession();
  return watch(
    () => [session.phase === 'signed-in' ? conversations.totalUnread : 0, appName()] as const,
    ([count, name]) => showUnreadCount(count, name),
    { immediate: true },
  );
}
