/**
 * Names a captured file after its kind and the local time it was taken, as
 * "Screenshot 2026-12-05 10.31.png". The prefix comes from the user's catalogue. Dots
 * separate hours and minutes because some file systems reject ':'.
 */
export function captureFileName(prefix: string, extension: string, time: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const date = `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}`;
  const clock = `${pad(time.getHours())}.${pad(time.getMinutes())}`;
  return `${prefix} ${date} ${clock}.${extension}`;
}
