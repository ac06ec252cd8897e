import type { Attachment } from './attachment-types.js';
import { purposeOf } from './oob.js';
import { tokenize } from './tokens.js';

/** Texts about files that the conversation list, search, notifications and bubbles share. */

/** A catalogue lookup such as vue-i18n's `t`. */
export type Translate = (key: string, params: Record<string, unknown>) => string;

/** Formats a duration as minutes and seconds, with hours first when there are any: 0:07, 12:30, 1:02:03. */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Formats a file size in binary steps with the locale's digits: 980 B, 1.4 MB. */
export function formatSize(bytes: number, locale: string): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value)} ${UNITS[unit]}`;
}

/** Returns true when the body contains only the attachment's URL, as OOB senders write it. */
export function bodyIsJustUrl(body: string, attachment: Attachment | undefined): boolean {
  return attachment !== undefined && (body.trim() === '' || body.trim() === attachment.url);
}

/** Returns the label of a file in the chosen language: "[Image] name", "[File] name", "[Voice message] 0:07", "[Video] 0:12". */
export function attachmentLabel(attachment: Attachment, t: Translate): string {
  const purpose = attachment.purpose ?? purposeOf(attachment.type);
  if (purpose === 'voice') return t('files.preview.voice', { duration: formatDuration(attachment.durationMs ?? 0) });
  if (purpose === 'video') return t('files.preview.video', { duration: formatDuration(attachment.durationMs ?? 0) });
  if (purpose === 'image' || purpose === 'screenshot') return t('files.preview.image', { name: attachment.name });
  return t('files.preview.file', { name: attachment.name });
}

/** Returns the one-line text of a message: its body, or the file label when the body is just the URL. Notifications use it too. */
export function previewText(message: { body: string; attachment?: Attachment }, t: Translate): string {
  if (!message.attachment || !bodyIsJustUrl(message.body, message.attachment)) return message.body;
  return attachmentLabel(message.attachment, t);
}

/** Returns the conversation list's preview line, which is the file label when the last message was just a file. */
export function conversationPreview(conversation: { preview: string; previewAttachment?: Attachment; previewRetracted?: boolean }, t: Translate): string {
  if (conversation.previewRetracted) return t('previews.deleted', {});
  return conversation.previewAttachment ? attachmentLabel(conversation.previewAttachment, t) : conversation.preview;
}

/** Returns the search tokens of a message with a file: its name, and the body unless it is only the URL. */
export function attachmentTokens(body: string, attachment: Attachment): string[] {
  return tokenize(bodyIsJustUrl(body, attachment) ? attachment.name : `${body} ${attachment.name}`);
}
