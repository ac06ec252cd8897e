/** Converts audio samples to the level the meter shows, from 0 (-60 dBFS and below) to 1 (full scale). */
export function levelFromSamples(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 0;
  const decibels = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (decibels + FLOOR_DB) / FLOOR_DB));
}

const FLOOR_DB = 60;

/** Reads the loudness of a microphone stream through an AnalyserNode. */
export class LevelMeter {
  private readonly context: AudioContext;
  private readonly analyser: AnalyserNode;
  private readonly samples: Float32Array<ArrayBuffer>;

  constructor(stream: MediaStream) {
    this.context = new AudioContext();
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.context.createMediaStreamSource(stream).connect(this.analyser);
    // A context created outside a user gesture starts suspended.
    void this.context.resume().catch(() => undefined);
  }

  /** Reads the current level, 0 to 1. */
  level(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    return levelFromSamples(this.samples);
  }

  close(): void {
    void this.context.close().catch(() => undefined);
  }
}
