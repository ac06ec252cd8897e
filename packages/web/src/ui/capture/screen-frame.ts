import type { Rect } from './crop.js';
import { CaptureUnsupportedError, mediaDevices, stopStream } from './media-errors.js';

/** How long a started capture may take to show its first frame. */
const FIRST_FRAME_TIMEOUT_MS = 5_000;

/**
 * Asks the browser for a screen, window or tab, copies one frame into a canvas and stops the
 * capture at once. Call it from a user gesture, as getDisplayMedia requires. Browsers offer
 * no way to hide the page during capture, so the page shows in a capture of its own screen.
 */
export async function grabScreenFrame(): Promise<HTMLCanvasElement> {
  const devices = mediaDevices();
  if (typeof devices.getDisplayMedia !== 'function') throw new CaptureUnsupportedError('getDisplayMedia is missing');
  const stream = await devices.getDisplayMedia({ video: true, audio: false });
  try {
    return await copyFrame(stream);
  } finally {
    stopStream(stream);
  }
}

async function copyFrame(stream: MediaStream): Promise<HTMLCanvasElement> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
    await firstFrame(video);
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext('2d');
    if (!context) throw new CaptureUnsupportedError('the canvas has no 2D context');
    context.drawImage(video, 0, 0);
    return canvas;
  } finally {
    video.srcObject = null;
  }
}

/** Resolves once `video` has presented a frame, or rejects after FIRST_FRAME_TIMEOUT_MS. */
function firstFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the capture showed no picture')), FIRST_FRAME_TIMEOUT_MS);
    video.requestVideoFrameCallback(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Encodes the `rect` part of `source` as PNG. */
export function cropToPng(source: HTMLCanvasElement, rect: Rect): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = rect.width;
  canvas.height = rect.height;
  const context = canvas.getContext('2d');
  if (!context) return Promise.reject(new CaptureUnsupportedError('the canvas has no 2D context'));
  context.drawImage(source, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png');
  });
}
