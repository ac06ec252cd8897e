// Starts what makes the client a desktop app: the service worker, notifications and the
// unread badge. main.ts calls startDesktop once.
import { watch } from 'vue';
import type { AppI18n } from '../i18n/index.js';
import { useSession } from '../stores/index.js';
import { startUnreadBadge } from '../ui/badge.js';
import { useNames } from '../ui/names.js';
import { startClosingReadNotifications, startNotifier } from '../ui/notifier.js';
import { navigate } from '../ui/router.js';
import { registerServiceWorker } from './register.js';

export function startDesktop(i18n: AppI18n): void {
  const t = (key: string, values?: Record<string, unknown>): string => i18n.global.t(key, values ?? {});

  void registerServiceWorker((jid) => {
    window.focus();
    navigate('chats', jid);
  });
  startUnreadBadge(() => t('app.name'));

  const session = useSession();
  const names = useNames();
  let stop: (() => void)[] = [];
  watch(
    () => session.phase === 'signed-in',
    (signedIn) => {
      for (const stopOne of stop.splice(0)) stopOne();
      if (!signedIn) return;
      const text = { conversationName: (jid: string) => names.conversationName(jid), t, locale: () => i18n.global.locale.value };
      stop = [startNotifier(text), startClosingReadNotifications()];
    },
    { immediate: true },
  );
}
