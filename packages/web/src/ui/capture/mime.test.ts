import { describe, expect, it } from 'vitest';
import { baseType, chooseFormat, formatOf } from './mime.js';

const supports = (...types: string[]) => (type: string): boolean => types.includes(type);

describe('recording format choice', () => {
  it('prefers WebM with Opus for audio', () => {
    const format = chooseFormat('audio', supports('audio/mp4', 'audio/webm;codecs=opus'));
    expect(format).toEqual({ recorderType: 'audio/webm;codecs=opus', fileType: 'audio/webm', extension: 'webm' });
  });

  it('falls back to MP4 audio without WebM', () => {
    const format = chooseFormat('audio', supports('audio/mp4'));
    expect(format).toEqual({ recorderType: 'audio/mp4', fileType: 'audio/mp4', extension: 'm4a' });
  });

  it('prefers WebM for video', () => {
    const format = chooseFormat('video', supports('video/mp4', 'video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus'));
    expect(format?.recorderType).toBe('video/webm;codecs=vp8,opus');
    expect(format?.fileType).toBe('video/webm');
  });

  it('falls back to MP4 video without WebM', () => {
    const format = chooseFormat('video', supports('video/mp4;codecs=avc1,mp4a.40.2', 'video/mp4'));
    expect(format).toEqual({ recorderType: 'video/mp4;codecs=avc1,mp4a.40.2', fileType: 'video/mp4', extension: 'mp4' });
  });

  it('never offers a video type for audio', () => {
    expect(chooseFormat('audio', supports('video/webm', 'video/mp4'))).toBeUndefined();
  });

  it('returns nothing when no format is supported', () => {
    expect(chooseFormat('video', () => false)).toBeUndefined();
  });

  it('strips parameters from a type', () => {
    expect(baseType('Audio/WebM; codecs=opus')).toBe('audio/webm');
    expect(formatOf('audio/x-unknown').extension).toBe('bin');
  });
});
