/** The recording formats MediaRecorder is asked for, best first, and the choice among them. */

export type RecordingKind = 'audio' | 'video';

/** A recording format: the MIME type MediaRecorder gets, the one the file carries, and its extension. */
export interface RecordingFormat {
  recorderType: string;
  fileType: string;
  extension: string;
}

// WebM with Opus is what Chromium and Firefox record; Safari records only MP4 (AAC, H.264).
const CANDIDATES: Record<RecordingKind, readonly string[]> = {
  audio: ['audio/webm;codecs=opus', 'audio/webm', 'audio/mp4;codecs=mp4a.40.2', 'audio/mp4', 'audio/ogg;codecs=opus'],
  video: ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm', 'video/mp4;codecs=avc1,mp4a.40.2', 'video/mp4'],
};

const EXTENSIONS: Record<string, string> = {
  'audio/webm': 'webm',
  'audio/mp4': 'm4a',
  'audio/ogg': 'ogg',
  'video/webm': 'webm',
  'video/mp4': 'mp4',
};

/** Strips the parameters from a MIME type and lowercases it: 'audio/webm;codecs=opus' gives 'audio/webm'. */
export function baseType(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Describes the format of a recorder MIME type. */
export function formatOf(recorderType: string): RecordingFormat {
  const fileType = baseType(recorderType);
  return { recorderType, fileType, extension: EXTENSIONS[fileType] ?? 'bin' };
}

/**
 * Picks the first format `isTypeSupported` accepts (pass MediaRecorder.isTypeSupported), or
 * undefined when the browser can record none of them.
 */
export function chooseFormat(kind: RecordingKind, isTypeSupported: (type: string) => boolean): RecordingFormat | undefined {
  const recorderType = CANDIDATES[kind].find((type) => isTypeSupported(type));
  return recorderType === undefined ? undefined : formatOf(recorderType);
}
