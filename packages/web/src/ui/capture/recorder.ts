import { chooseFormat, type RecordingFormat, type RecordingKind } from './mime.js';
import { CaptureUnsupportedError } from './media-errors.js';
import { blobWithDuration } from './webm-duration.js';

/**
 * A finished recording. `durationMs` is measured here because MediaRecorder's WebM carries no
 * duration, and a WebM blob gets it written into its header.
 */
export interface Recording {
  blob: Blob;
  durationMs: number;
  format: RecordingFormat;
}

/** Chunks arrive every second, so a long recording never sits in one growing buffer. */
const TIMESLICE_MS = 1_000;

/**
 * One MediaRecorder run over a stream the caller owns (the caller stops its tracks). The
 * length runs from the recorder's start event to the stop request.
 */
export class Recorder {
  readonly format: RecordingFormat;
  private readonly recorder: MediaRecorder;
  private readonly chunks: Blob[] = [];
  private startedAt = 0;
  private stoppedAt = 0;

  constructor(stream: MediaStream, kind: RecordingKind) {
    if (typeof MediaRecorder === 'undefined') throw new CaptureUnsupportedError('MediaRecorder is missing');
    const format = chooseFormat(kind, (type) => MediaRecorder.isTypeSupported(type));
    if (!format) throw new CaptureUnsupportedError(`MediaRecorder supports no ${kind} format`);
    this.format = format;
    this.recorder = new MediaRecorder(stream, { mimeType: format.recorderType });
    this.recorder.addEventListener('dataavailable', (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    });
  }

  get recording(): boolean {
    return this.recorder.state === 'recording';
  }

  /** Starts recording; resolves once the recorder runs. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.recorder.addEventListener('start', () => {
        this.startedAt = performance.now();
        resolve();
      }, { once: true });
      this.recorder.addEventListener('error', (event) => reject(errorOf(event)), { once: true });
      this.recorder.start(TIMESLICE_MS);
    });
  }

  /** Returns the recorded length so far, or the final length once stopped. */
  elapsedMs(): number {
    if (!this.startedAt) return 0;
    return (this.stoppedAt || performance.now()) - this.startedAt;
  }

  /** Stops recording and resolves with the whole recording once the last chunk has arrived. */
  stop(): Promise<Recording> {
    return new Promise((resolve, reject) => {
      if (this.recorder.state === 'inactive') {
        reject(new Error('the recorder is not running'));
        return;
      }
      this.stoppedAt = performance.now();
      this.recorder.addEventListener('stop', () => {
        const durationMs = Math.round(this.elapsedMs());
        const blob = new Blob(this.chunks, { type: this.format.fileType });
        blobWithDuration(blob, durationMs).then((withDuration) => resolve({ blob: withDuration, durationMs, format: this.format }), reject);
      }, { once: true });
      this.recorder.addEventListener('error', (event) => reject(errorOf(event)), { once: true });
      this.recorder.stop();
    });
  }

  /** Stops recording and drops what was recorded. */
  discard(): void {
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    this.chunks.length = 0;
  }
}

function errorOf(event: Event): Error {
  const { error } = event as Event & { error?: unknown };
  return error instanceof Error ? error : new Error('MediaRecorder failed');
}
