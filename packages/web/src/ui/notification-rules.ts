// The rules that decide which new messages get a desktop notification. Pure, so they are tested without a browser.
import type { ConversationKind } from '../data/index.js';

/** Notifications shown per minute at most; a burst (a sync after a long absence) shows no more. */
export const MAX_PER_MINUTE = 5;

export interface NotificationCase {
  kind: ConversationKind;
  /** The conversation's mute ends after now (conversations.isMuted). */
  muted: boolean;
  /** The message mentions the account's nick (groups only). */
  mention: boolean;
  /** This tab shows the conversation and the page is visible. */
  onScreen: boolean;
  /** The account's own presence is do-not-disturb. */
  doNotDisturb: boolean;
  groupMentionsOnly: boolean;
  mentionsInDnd: boolean;
}

/** Decides whether a new message alerts at all (notification or sound); the rate limit comes after. */
export function shouldAlert(item: NotificationCase): boolean {
  if (item.muted || item.onScreen) return false;

  const groupMention = item.kind === 'groupchat' && item.mention;
  if (item.doNotDisturb && !(groupMention && item.mentionsInDnd)) return false;
  return !(item.kind === 'groupchat' && item.groupMentionsOnly && !item.mention);
}

/**
 * Checks whether `text` names `nick` as a whole word ('@nick' included), ignoring case.
 * Nicks in other words ('ann' in 'annual') do not count.
 */
export function mentions(text: string, nick: string): boolean {
  const needle = nick.trim().toLocaleLowerCase();
  if (!needle) return false;

  const haystack = text.toLocaleLowerCase();
  let from = haystack.indexOf(needle);
  while (from >= 0) {
    const before = haystack[from - 1] ?? ' ';
    const after = haystack[from + needle.length] ?? ' ';
    if (!isWordCharacter(before) && !isWordCharacter(after)) return true;
    from = haystack.indexOf(needle, from + 1);
  }
  return false;
}

function isWordCharacter(character: string): boolean {
  return /[\p{L}\p{N}_]/u.test(character);
}

/** Counts alerts in a sliding minute; `allow()` records one and returns false past the limit. */
/** How an alert reaches the user: a sound, a desktop notification, both or neither. */
export interface AlertChannels {
  sound: boolean;
  notification: boolean;
}

/**
 * Returns the channels of an alert that goes out now, or undefined. Only an alert that reaches the
 * user counts against `limit`, so one with no sound and no permission for notifications does not.
 */
export function takeAlert(limit: RateLimit, settings: { sound: boolean; notifications: boolean }, permission: NotificationPermission | 'unsupported'): AlertChannels | undefined {
  const channels = { sound: settings.sound, notification: settings.notifications && permission === 'granted' };
  if (!channels.sound && !channels.notification) return undefined;
  return limit.allow() ? channels : undefined;
}

export class RateLimit {
  private times: number[] = [];

  constructor(
    private readonly maxPerMinute = MAX_PER_MINUTE,
    private readonly now: () => number = Date.now,
  ) {}

  allow(): boolean {
    const now = this.now();
    this.times = this.times.filter((time) => now - time < 60_000);
    if (this.times.length >= this.maxPerMinute) return false;
    this.times.push(now);
    return true;
  }
}
