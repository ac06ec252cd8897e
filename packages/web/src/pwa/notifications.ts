// Shows and closes desktop notifications through the service worker registration, so they
// work in the installed app and outlive the tab. Without a service worker (the dev server,
// old browsers) they fall back to page notifications.
import { activeRegistration } from './register.js';
import type { NotificationData } from '../sw/messages.js';

export const ICON = '/icons/icon-192.png';
/** A monochrome glyph: Android's status bar shows only its alpha channel. */
export const BADGE = '/icons/badge-96.png';

export interface DesktopNotification {
  conversation: string;
  title: string;
  body: string;
  lang: string;
}

/** NotificationOptions with `renotify`, which TypeScript's DOM library leaves out. */
type ShowOptions = NotificationOptions & { renotify?: boolean };

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks the browser for permission; call it from a user gesture (a click), as browsers require. */
export async function requestPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  return Notification.requestPermission();
}

/**
 * Shows one notification per conversation: the tag replaces the previous one of the same
 * conversation, and `renotify` alerts again for the new message.
 */
export async function showNotification(item: DesktopNotification, onPageClick: () => void): Promise<void> {
  const data: NotificationData = { conversation: item.conversation };
  const options: ShowOptions = { body: item.body, tag: item.conversation, renotify: true, icon: ICON, badge: BADGE, lang: item.lang, data };

  const registration = await activeRegistration();
  if (registration) {
    await registration.showNotification(item.title, options);
    return;
  }

  const notification = new Notification(item.title, options);
  notification.onclick = () => {
    window.focus();
    onPageClick();
    notification.close();
  };
}

/** Closes the notifications of `conversation` (the user read it here or elsewhere). */
export async function closeNotifications(conversation: string): Promise<void> {
  const registration = await activeRegistration();
  if (!registration) return;
  const shown = await registration.getNotifications({ tag: conversation });
  for (const notification of shown) notification.close();
}
