import type { Message } from '../data/index.js';
import { isMuted, useConversations, useSettings } from '../stores/index.js';
import { maybeServices } from '../stores/services.js';
import { navigate } from './router.js';

/** Notifications shown per minute at most; a burst (a sync after a long absence) shows no more. */
const MAX_PER_MINUTE = 5;
const PREVIEW_LENGTH = 120;

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

/**
 * Shows a system notification (and a sound, if chosen) for messages that arrive after start
 * in conversations that are not muted and not on screen. Returns the stop function.
 */
export function startNotifier(titleOf: (conversation: string) => string): () => void {
  const services = maybeServices();
  if (!services) return () => undefined;
  const settings = useSettings();
  const conversations = useConversations();
  const startedAt = Date.now();
  let shown: number[] = [];

  const notify = (message: Message): void => {
    const conversation = conversations.items.find((item) => item.jid === message.conversation);
    if (conversation && isMuted(conversation)) return;
    if (document.visibilityState === 'visible' && conversations.openJid === message.conversation) return;

    const now = Date.now();
    shown = shown.filter((time) => now - time < 60_000);
    if (shown.length >= MAX_PER_MINUTE) return;
    shown.push(now);

    if (settings.sound) beep();
    if (!settings.notifications || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const notification = new Notification(titleOf(message.conversation), { body: message.body.slice(0, PREVIEW_LENGTH), tag: message.conversation });
    notification.onclick = () => {
      window.focus();
      navigate('chats', message.conversation);
      notification.close();
    };
  };

  return services.chat.subscribe((change) => {
    if (change.type !== 'messages') return;
    void services.db.messages.bulkGet(change.keys).then((rows) => {
      for (const row of rows) {
        if (row && row.direction === 'in' && row.body && !row.editedAt && !row.retractedAt && row.timestamp >= startedAt) notify(row);
      }
    });
  });
}
