import { useI18n } from 'vue-i18n';
import { classifyCaptureError } from './media-errors.js';
import { problemMessage, type CaptureDevice } from './problem-message.js';

/** Returns a function that words a capture error for the user, in the current language. */
export function useProblemText(): (device: CaptureDevice, error: unknown) => string {
  const { t } = useI18n();
  return (device, error) => {
    const detail = error instanceof Error ? error.message : String(error);
    const { key, params } = problemMessage(device, classifyCaptureError(error), detail);
    return t(key, params);
  };
}
