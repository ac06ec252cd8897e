/** Dates and times in the chosen locale, through Intl; formatters are cached per locale. */

const DAY_MS = 86_400_000;
const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let found = cache.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
    cache.set(key, found);
  }
  return found;
}

/** Local midnight of the day of `time`. */
export function startOfDay(time: number): number {
  const date = new Date(time);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** Hours and minutes, as a message shows its time. */
export function formatClock(locale: string, time: number): string {
  return formatter(locale, { hour: '2-digit', minute: '2-digit' }).format(time);
}

export type DayLabel = { kind: 'today' } | { kind: 'yesterday' } | { kind: 'date'; text: string };

/** Returns the label of a day separator: today, yesterday, or the date (with the weekday in the current year). */
export function dayLabel(locale: string, time: number, now = Date.now()): DayLabel {
  const days = Math.round((startOfDay(now) - startOfDay(time)) / DAY_MS);
  if (days === 0) return { kind: 'today' };
  if (days === 1) return { kind: 'yesterday' };
  const sameYear = new Date(time).getFullYear() === new Date(now).getFullYear();
  const options: Intl.DateTimeFormatOptions = sameYear
    ? { month: 'long', day: 'numeric', weekday: 'long' }
    : { year: 'numeric', month: 'long', day: 'numeric' };
  return { kind: 'date', text: formatter(locale, options).format(time) };
}

/** Formats the time of a conversation list entry: the clock today, the weekday within a week, else the date. */
export function formatListTime(locale: string, time: number, now = Date.now()): string {
  if (!time) return '';
  const days = Math.round((startOfDay(now) - startOfDay(time)) / DAY_MS);
  if (days === 0) return formatClock(locale, time);
  if (days > 0 && days < 7) return formatter(locale, { weekday: 'short' }).format(time);
  if (new Date(time).getFullYear() === new Date(now).getFullYear()) return formatter(locale, { month: 'numeric', day: 'numeric' }).format(time);
  return formatter(locale, { year: 'numeric', month: 'numeric', day: 'numeric' }).format(time);
}

/** Date and time in full, for a message's tooltip. */
export function formatFull(locale: string, time: number): string {
  return formatter(locale, { dateStyle: 'full', timeStyle: 'short' }).format(time);
}
