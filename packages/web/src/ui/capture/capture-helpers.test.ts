import { describe, expect, it } from 'vitest';
import { captureFileName } from './file-name.js';
import { formatElapsed } from './format-time.js';
import { levelFromSamples } from './level-meter.js';
import { CaptureUnsupportedError, classifyCaptureError } from './media-errors.js';
import { problemMessage } from './problem-message.js';

describe('capture file names', () => {
  const time = new Date(2026, 11, 5, 9, 7);

  it('names a screenshot in English', () => {
    expect(captureFileName('Screenshot', 'png', time)).toBe('Screenshot 2026-12-05 09.07.png');
  });

  it('names a screenshot in Chinese', () => {
    expect(captureFileName('截图', 'png', time)).toBe('截图 2026-12-05 09.07.png');
  });
});

describe('recording timer text', () => {
  it('shows minutes and seconds', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(2_999)).toBe('0:02');
    expect(formatElapsed(300_000)).toBe('5:00');
  });

  it('shows hours when needed', () => {
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
  });

  it('treats negative input as zero', () => {
    expect(formatElapsed(-5)).toBe('0:00');
  });
});

describe('level meter scale', () => {
  it('is 0 for silence', () => {
    expect(levelFromSamples(new Float32Array(128))).toBe(0);
    expect(levelFromSamples(new Float32Array(0))).toBe(0);
  });

  it('is 1 at full scale', () => {
    expect(levelFromSamples(new Float32Array(128).fill(1))).toBe(1);
  });

  it('is 0.5 at -30 dBFS', () => {
    const amplitude = 10 ** (-30 / 20);
    expect(levelFromSamples(new Float32Array(128).fill(amplitude))).toBeCloseTo(0.5, 5);
  });
});

describe('capture errors', () => {
  const dom = (name: string): DOMException => new DOMException('test', name);

  it('sorts the media errors', () => {
    expect(classifyCaptureError(dom('NotAllowedError'))).toBe('denied');
    expect(classifyCaptureError(dom('NotFoundError'))).toBe('absent');
    expect(classifyCaptureError(dom('NotReadableError'))).toBe('busy');
    expect(classifyCaptureError(new CaptureUnsupportedError('no MediaRecorder'))).toBe('unsupported');
    expect(classifyCaptureError(new Error('other'))).toBe('failed');
    expect(classifyCaptureError('a string')).toBe('failed');
  });

  it('words a denial per device', () => {
    expect(problemMessage('microphone', 'denied', '').key).toBe('capture.micDenied');
    expect(problemMessage('camera', 'denied', '').key).toBe('capture.cameraDenied');
    expect(problemMessage('screen', 'denied', '').key).toBe('capture.screenDenied');
  });

  it('passes the detail to a failure', () => {
    expect(problemMessage('camera', 'failed', 'boom')).toEqual({ key: 'capture.failed', params: { message: 'boom' } });
  });
});
