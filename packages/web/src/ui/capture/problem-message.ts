import type { CaptureProblem } from './media-errors.js';

/** The device a capture asked for, which picks the wording of its error. */
export type CaptureDevice = 'screen' | 'microphone' | 'camera';

/** A catalogue key under `capture` with its named arguments. */
export interface ProblemMessage {
  key: string;
  params: Record<string, string>;
}

const DENIED: Record<CaptureDevice, string> = { screen: 'screenDenied', microphone: 'micDenied', camera: 'cameraDenied' };
const ABSENT: Record<CaptureDevice, string> = { screen: 'failed', microphone: 'micAbsent', camera: 'cameraAbsent' };

/** Picks the message the user sees for `problem`; `detail` fills the generic failure message. */
export function problemMessage(device: CaptureDevice, problem: CaptureProblem, detail: string): ProblemMessage {
  switch (problem) {
    case 'denied':
      return { key: `capture.${DENIED[device]}`, params: {} };
    case 'absent':
      return { key: `capture.${ABSENT[device]}`, params: { message: detail } };
    case 'busy':
      return { key: 'capture.busy', params: {} };
    case 'unsupported':
      return { key: 'capture.unsupported', params: {} };
    default:
      return { key: 'capture.failed', params: { message: detail } };
  }
}
