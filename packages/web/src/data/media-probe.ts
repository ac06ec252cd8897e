import type { AttachmentMeta } from './attachment-types.js';
import { purposeOf } from './oob.js';

/** Measures a file's pixel size or length in the browser before it is sent. */

const PROBE_TIMEOUT_MS = 5_000;

/** Fills in width and height of images and videos and the length of audio and video that `known` lacks. */
export async function probeMedia(file: Blob, type: string, known: AttachmentMeta = {}): Promise<AttachmentMeta> {
  const meta: AttachmentMeta = { ...known };
  const purpose = purposeOf(type);
  meta.purpose ??= purpose;
  try {
    if (purpose === 'image' && (meta.width === undefined || meta.height === undefined)) Object.assign(meta, await imageSize(file));
    if ((purpose === 'video' || purpose === 'voice') && needsMediaProbe(meta, purpose)) Object.assign(meta, await mediaInfo(file, purpose), known);
  } catch {
    // A file the browser cannot decode is still sent, only without these numbers.
  }
  return meta;
}

function needsMediaProbe(meta: AttachmentMeta, purpose: string): boolean {
  return meta.durationMs === undefined || (purpose === 'video' && (meta.width === undefined || meta.height === undefined));
}

async function imageSize(file: Blob): Promise<AttachmentMeta> {
  const bitmap = await createImageBitmap(file);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}

/** Loads only the metadata of an audio or video file. MediaRecorder output may report Infinity, which is left out. */
function mediaInfo(file: Blob, purpose: 'video' | 'voice'): Promise<AttachmentMeta> {
  const element = document.createElement(purpose === 'video' ? 'video' : 'audio');
  const url = URL.createObjectURL(file);
  return new Promise<AttachmentMeta>((resolve) => {
    const finish = (meta: AttachmentMeta): void => {
      clearTimeout(timer);
      URL.revokeObjectURL(url);
      element.removeAttribute('src');
      resolve(meta);
    };
    const timer = setTimeout(() => finish({}), PROBE_TIMEOUT_MS);
    element.preload = 'metadata';
    element.onloadedmetadata = () => {
      const meta: AttachmentMeta = {};
      if (Number.isFinite(element.duration)) meta.durationMs = Math.round(element.duration * 1000);
      if (element instanceof HTMLVideoElement && element.videoWidth > 0) {
        meta.width = element.videoWidth;
        meta.height = element.videoHeight;
      }
      finish(meta);
    };
    element.onerror = () => finish({});
    element.src = url;
  });
}
