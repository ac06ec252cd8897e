import { describe, expect, it } from 'vitest';
import {
  MIN_CROP, contains, coversImage, fullRect, isUsable, moveRect, nudgeRect, nudgeStep, rectFromPoints, resizeRect, toImageDelta, toImagePoint,
} from './crop.js';

const image = { width: 1280, height: 720 };
// The image shown at half size, 20 px from the left and 10 px from the top of the viewport.
const box = { left: 20, top: 10, width: 640, height: 360 };

describe('crop coordinates', () => {
  it('maps a screen point to image pixels', () => {
    expect(toImagePoint(20, 10, box, image)).toEqual({ x: 0, y: 0 });
    expect(toImagePoint(340, 190, box, image)).toEqual({ x: 640, y: 360 });
    expect(toImagePoint(660, 370, box, image)).toEqual({ x: 1280, y: 720 });
  });

  it('clamps a point outside the image', () => {
    expect(toImagePoint(-50, 900, box, image)).toEqual({ x: 0, y: 720 });
  });

  it('scales a movement without clamping', () => {
    expect(toImageDelta(-700, 15, box, image)).toEqual({ x: -1400, y: 30 });
  });

  it('survives an empty box', () => {
    expect(toImagePoint(5, 5, { left: 0, top: 0, width: 0, height: 0 }, image)).toEqual({ x: 0, y: 0 });
  });
});

describe('crop rectangles', () => {
  it('defaults to the whole image', () => {
    expect(fullRect(image)).toEqual({ x: 0, y: 0, width: 1280, height: 720 });
  });

  it('spans two corners in any order', () => {
    expect(rectFromPoints({ x: 300, y: 200 }, { x: 100, y: 50 }, image)).toEqual({ x: 100, y: 50, width: 200, height: 150 });
  });

  it('clips a drawn rectangle to the image', () => {
    expect(rectFromPoints({ x: 1200, y: 700 }, { x: 1500, y: 900 }, image)).toEqual({ x: 1200, y: 700, width: 80, height: 20 });
  });

  it('moves inside the image only', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(moveRect(rect, 50, -20, image)).toEqual({ x: 150, y: 80, width: 200, height: 100 });
    expect(moveRect(rect, -500, 5000, image)).toEqual({ x: 0, y: 620, width: 200, height: 100 });
  });

  it('resizes from a corner', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(resizeRect(rect, 'nw', -40, -30, image)).toEqual({ x: 60, y: 70, width: 240, height: 130 });
    expect(resizeRect(rect, 'se', 10, 20, image)).toEqual({ x: 100, y: 100, width: 210, height: 120 });
  });

  it('resizes one edge and leaves the other axis', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(resizeRect(rect, 'e', 30, 999, image)).toEqual({ x: 100, y: 100, width: 230, height: 100 });
    expect(resizeRect(rect, 'n', 999, -10, image)).toEqual({ x: 100, y: 90, width: 200, height: 110 });
  });

  it('stops an edge before the opposite one', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(resizeRect(rect, 'w', 500, 0, image)).toEqual({ x: 300 - MIN_CROP, y: 100, width: MIN_CROP, height: 100 });
    expect(resizeRect(rect, 's', 0, -500, image)).toEqual({ x: 100, y: 100, width: 200, height: MIN_CROP });
  });

  it('stops an edge at the border', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(resizeRect(rect, 'se', 5000, 5000, image)).toEqual({ x: 100, y: 100, width: 1180, height: 620 });
  });

  it('keeps a tiny image whole', () => {
    const tiny = { width: 4, height: 3 };
    expect(resizeRect(fullRect(tiny), 'e', -10, 0, tiny)).toEqual({ x: 0, y: 0, width: 4, height: 3 });
    expect(isUsable(fullRect(tiny), tiny)).toBe(true);
  });

  it('rejects a selection below the minimum', () => {
    expect(isUsable({ x: 0, y: 0, width: MIN_CROP - 1, height: 100 }, image)).toBe(false);
    expect(isUsable({ x: 0, y: 0, width: MIN_CROP, height: MIN_CROP }, image)).toBe(true);
  });

  it('knows the whole image', () => {
    expect(coversImage(fullRect(image), image)).toBe(true);
    expect(coversImage({ x: 0, y: 0, width: 1279, height: 720 }, image)).toBe(false);
  });

  it('finds points inside', () => {
    const rect = { x: 10, y: 10, width: 20, height: 20 };
    expect(contains(rect, { x: 30, y: 10 })).toBe(true);
    expect(contains(rect, { x: 31, y: 10 })).toBe(false);
  });
});

describe('crop keyboard', () => {
  const rect = { x: 100, y: 100, width: 200, height: 100 };

  it('steps 1 % of the longer side', () => {
    expect(nudgeStep(image)).toBe(13);
    expect(nudgeStep({ width: 30, height: 20 })).toBe(1);
  });

  it('moves with arrow keys', () => {
    expect(nudgeRect(rect, 'ArrowLeft', false, image)).toEqual({ ...rect, x: 87 });
    expect(nudgeRect(rect, 'ArrowDown', false, image)).toEqual({ ...rect, y: 113 });
  });

  it('resizes with Shift', () => {
    expect(nudgeRect(rect, 'ArrowRight', true, image)).toEqual({ ...rect, width: 213 });
    expect(nudgeRect(rect, 'ArrowUp', true, image)).toEqual({ ...rect, height: 87 });
  });

  it('ignores other keys', () => {
    expect(nudgeRect(rect, 'Enter', false, image)).toBeUndefined();
  });
});
