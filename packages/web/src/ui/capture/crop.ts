/** Rectangle math of the screenshot crop editor, in the pixels of the captured image. */

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface Rect extends Point, Size {}

/** A resize handle: the edges it moves, by compass direction. */
export type Handle = 'n' | 's' | 'e' | 'w' | 'ne' | 'nw' | 'se' | 'sw';

export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

/** The smallest selection, in image pixels. A drag that ends smaller keeps the previous selection. */
export const MIN_CROP = 8;

/** The on-screen box of the displayed image, as getBoundingClientRect returns it. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

const clamp = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);

/** Returns the whole image, the default selection. */
export function fullRect(image: Size): Rect {
  return { x: 0, y: 0, width: image.width, height: image.height };
}

/** Converts a pointer position on screen to the image pixel under it, clamped to the image. */
export function toImagePoint(clientX: number, clientY: number, box: Box, image: Size): Point {
  const x = box.width > 0 ? ((clientX - box.left) / box.width) * image.width : 0;
  const y = box.height > 0 ? ((clientY - box.top) / box.height) * image.height : 0;
  return { x: clamp(Math.round(x), 0, image.width), y: clamp(Math.round(y), 0, image.height) };
}

/** Returns the rectangle spanned by two corners in any order, clamped to the image. */
export function rectFromPoints(a: Point, b: Point, image: Size): Rect {
  const left = clamp(Math.min(a.x, b.x), 0, image.width);
  const top = clamp(Math.min(a.y, b.y), 0, image.height);
  const right = clamp(Math.max(a.x, b.x), 0, image.width);
  const bottom = clamp(Math.max(a.y, b.y), 0, image.height);
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Moves `rect` by (dx, dy) without changing its size, stopping at the image's edges. */
export function moveRect(rect: Rect, dx: number, dy: number, image: Size): Rect {
  return {
    ...rect,
    x: clamp(rect.x + dx, 0, image.width - rect.width),
    y: clamp(rect.y + dy, 0, image.height - rect.height),
  };
}

/**
 * Moves the edges that `handle` names by (dx, dy). An edge stops at the image's border and
 * `minSize` pixels before the opposite edge, so a selection never flips or vanishes.
 */
export function resizeRect(rect: Rect, handle: Handle, dx: number, dy: number, image: Size, minSize = MIN_CROP): Rect {
  let left = rect.x;
  let top = rect.y;
  let right = rect.x + rect.width;
  let bottom = rect.y + rect.height;
  const minWidth = Math.min(minSize, image.width);
  const minHeight = Math.min(minSize, image.height);

  if (handle.includes('w')) left = clamp(left + dx, 0, right - minWidth);
  if (handle.includes('e')) right = clamp(right + dx, left + minWidth, image.width);
  if (handle.includes('n')) top = clamp(top + dy, 0, bottom - minHeight);
  if (handle.includes('s')) bottom = clamp(bottom + dy, top + minHeight, image.height);

  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Returns the keyboard step in image pixels: 1 % of the image's longer side, at least 1. */
export function nudgeStep(image: Size): number {
  return Math.max(1, Math.round(Math.max(image.width, image.height) / 100));
}

const ARROWS: Record<string, Point> = {
  ArrowLeft: { x: -1, y: 0 },
  ArrowRight: { x: 1, y: 0 },
  ArrowUp: { x: 0, y: -1 },
  ArrowDown: { x: 0, y: 1 },
};

/**
 * Applies an arrow key to the selection: it moves the selection, or with `resize` (Shift held)
 * moves its right or bottom edge. Returns undefined for any other key.
 */
export function nudgeRect(rect: Rect, key: string, resize: boolean, image: Size): Rect | undefined {
  const arrow = ARROWS[key];
  if (!arrow) return undefined;
  const step = nudgeStep(image);
  if (!resize) return moveRect(rect, arrow.x * step, arrow.y * step, image);
  return resizeRect(rect, 'se', arrow.x * step, arrow.y * step, image);
}

/** True when the selection is big enough to keep. */
export function isUsable(rect: Rect, image: Size, minSize = MIN_CROP): boolean {
  return rect.width >= Math.min(minSize, image.width) && rect.height >= Math.min(minSize, image.height);
}

/** True when `point` lies inside `rect` (edges included). */
export function contains(rect: Rect, point: Point): boolean {
  return point.x >= rect.x && point.x <= rect.x + rect.width && point.y >= rect.y && point.y <= rect.y + rect.height;
}

/** Converts a pointer movement on screen to image pixels, without clamping. */
export function toImageDelta(dxClient: number, dyClient: number, box: Box, image: Size): Point {
  return {
    x: box.width > 0 ? Math.round((dxClient / box.width) * image.width) : 0,
    y: box.height > 0 ? Math.round((dyClient / box.height) * image.height) : 0,
  };
}

/** True when `rect` covers the whole image, so it cannot move and a drag inside it draws anew. */
export function coversImage(rect: Rect, image: Size): boolean {
  return rect.x <= 0 && rect.y <= 0 && rect.width >= image.width && rect.height >= image.height;
}
