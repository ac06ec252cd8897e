/** Classifies the errors of getUserMedia, getDisplayMedia and MediaRecorder into the problems the user sees. */

export type CaptureProblem = 'denied' | 'absent' | 'busy' | 'unsupported' | 'failed';

/** Thrown where the browser lacks an API that capture needs. */
export class CaptureUnsupportedError extends Error {
  override name = 'CaptureUnsupportedError';
}

/**
 * Maps a thrown value to a problem. The names are the DOMException names the Media Capture
 * specifications define; Chromium also reports a cancelled screen picker as NotAllowedError.
 */
export function classifyCaptureError(error: unknown): CaptureProblem {
  if (error instanceof CaptureUnsupportedError) return 'unsupported';
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'absent';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    case 'NotSupportedError':
      return 'unsupported';
    default:
      return 'failed';
  }
}

/** Returns navigator.mediaDevices, which browsers leave undefined outside secure contexts (plain HTTP). */
export function mediaDevices(): MediaDevices {
  const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  if (!devices) throw new CaptureUnsupportedError('navigator.mediaDevices is missing (no secure context?)');
  return devices;
}

/** Stops every track of `stream`, which turns off the camera, microphone or screen capture indicator. */
export function stopStream(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
