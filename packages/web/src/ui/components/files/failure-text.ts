import { formatSize, type UploadFailure } from '../../../data/index.js';

type T = (key: string, params?: Record<string, unknown>) => string;

/** Returns the localized reason of a failed or rejected upload, naming the limit when the server gave it. */
export function failureText(t: T, locale: string, failure: UploadFailure, maxFileSize?: number): string {
  if (failure === 'too-large') {
    return maxFileSize === undefined ? t('files.failure.too-large-unknown') : t('files.failure.too-large', { limit: formatSize(maxFileSize, locale) });
  }
  return t(`files.failure.${failure}`);
}
