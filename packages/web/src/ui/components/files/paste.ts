type T = (key: string, params?: Record<string, unknown>) => string;

/** Names browsers give an image pasted from the clipboard (a screenshot has no file name of its own). */
const GENERIC_NAMES = /^(image|blob|clipboard)?\.?(png|jpe?g|gif|webp|bmp)?$/i;

/**
 * Returns the files of a paste event. Images without a real name (screenshots) get a localized name
 * with the date and time: "Screenshot 2026-12-05 10.31.png" / "截图 2026-12-05 10.31.png".
 */
export function pastedFiles(event: ClipboardEvent, t: T, now = new Date()): File[] {
  const files = [...(event.clipboardData?.files ?? [])];
  return files.map((file) => (file.type.startsWith('image/') && GENERIC_NAMES.test(file.name) ? renamed(file, t, now) : file));
}

function renamed(file: File, t: T, now: Date): File {
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}.${pad(now.getMinutes())}`;
  const base = t('files.screenshotName', { date, time });
  const name = file.type === 'image/png' ? base : base.replace(/\.png$/, `.${file.type.slice('image/'.length).replace('jpeg', 'jpg')}`);
  return new File([file], name, { type: file.type, lastModified: now.getTime() });
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
