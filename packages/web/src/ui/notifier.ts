import { previewText, type Message } from '../data/index.js';
import { closeNotifications, notificationPermission, showNotification } from '../pwa/notifications.js';
import { isMuted, useContacts, useConversations, useRooms, useSettings } from '../stores/index.js';
import { maybeServices } from '../stores/services.js';
import { mentions, RateLimit, shouldAlert, takeAlert } from './notification-rules.js';
import { navigate } from './router.js';

const PREVIEW_LENGTH = 120;

/** Names and localized text that the notifier takes from the screens. */
export interface NotifierText {
  conversationName(jid: string): string;
  /** Translates a catalogue key. */
  t(key: string, values?: Record<string, unknown>): string;
  locale(): string;
}

function beep(): void {
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.25);
  tone.onended = () => void audio.close();
}

/** Checks whether a stored row is a new incoming message worth an alert. */
function isNewIncoming(row: Message | undefined, startedAt: number): row is Message {
  return !!row && row.direction === 'in' && (!!row.body || !!row.attachment) && !row.editedAt && !row.retractedAt && row.timestamp >= startedAt;
}

/**
 * Shows a desktop notification (and a sound, if chosen) for messages that arrive after start,
 * following the rules in notification-rules.ts. Only the account's active tab alerts, so that
 * several tabs do not alert twice. Returns the stop function.
 */
export function startNotifier(text: NotifierText): () => void {
  const services = maybeServices();
  if (!services) return () => undefined;
  const settings = useSettings();
  const conversations = useConversations();
  const contacts = useContacts();
  const rooms = useRooms();
  const startedAt = Date.now();
  const limit = new RateLimit();

  const notify = (message: Message): void => {
    const conversation = conversations.items.find((item) => item.jid === message.conversation);
    const mention = message.kind === 'groupchat' && mentions(message.body, rooms.ownNick(message.conversation));
    const alert = shouldAlert({
      kind: message.kind,
      muted: !!conversation && isMuted(conversation),
      mention,
      // TODO: another visible tab of the account that shows this conversation still gets an alert here.
      onScreen: document.visibilityState === 'visible' && conversations.openJid === message.conversation,
      doNotDisturb: contacts.ownShow === 'dnd',
      groupMentionsOnly: settings.groupMentionsOnly,
      mentionsInDnd: settings.mentionsInDnd,
    });
    const channels = alert ? takeAlert(limit, settings, notificationPermission()) : undefined;
    if (!channels) return;

    if (channels.sound) beep();
    if (!channels.notification) return;
    const notification = { conversation: message.conversation, title: titleOf(message, mention), body: bodyOf(message), lang: text.locale() };
    showNotification(notification, () => navigate('chats', message.conversation)).catch((err: unknown) => console.warn('showing a notification failed', err));
  };

  const titleOf = (message: Message, mention: boolean): string => {
    const name = text.conversationName(message.conversation);
    return mention ? text.t('desktop.mentionTitle', { room: name }) : name;
  };

  const bodyOf = (message: Message): string => {
    if (!settings.notificationPreview) return text.t(message.kind === 'groupchat' ? 'desktop.hiddenGroupMessage' : 'desktop.hiddenMessage', { sender: message.from });
    // A file message reads as its label ("[Image] a.png"), not as the download URL.
    const body = previewText(message, text.t).slice(0, PREVIEW_LENGTH);
    return message.kind === 'groupchat' ? `${message.from}: ${body}` : body;
  };

  return services.chat.subscribe((change) => {
    if (change.type !== 'messages' || !services.chat.isActive) return;
    void services.db.messages.bulkGet(change.keys).then((rows) => {
      for (const row of rows) if (isNewIncoming(row, startedAt)) notify(row);
    });
  });
}

/**
 * Closes the notifications of a conversation once it is read: shown on a visible page here, or
 * read on another device (its read position moved and nothing is unread). Returns the stop function.
 */
export function startClosingReadNotifications(): () => void {
  const conversations = useConversations();
  const closeOpen = (): void => {
    if (document.visibilityState === 'visible' && conversations.openJid) void closeNotifications(conversations.openJid).catch(() => undefined);
  };
  document.addEventListener('visibilitychange', closeOpen);

  // A moved read position, not an unread count of 0 alone, marks a read on another device.
  let readBefore = new Map<string, string | undefined>();
  const stopWatching = conversations.$subscribe(() => {
    closeOpen();
    const readNow = new Map(conversations.items.map((item) => [item.jid, item.readStanzaId]));
    for (const item of conversations.items) {
      const moved = readBefore.has(item.jid) && item.readStanzaId !== undefined && item.readStanzaId !== readBefore.get(item.jid);
      if (moved && item.unread === 0) void closeNotifications(item.jid).catch(() => undefined);
    }
    readBefore = readNow;
  });

  return () => {
    document.removeEventListener('visibilitychange', closeOpen);
    stopWatching();
  };
}
