import type { Attachment } from '../../../data/index.js';
import { purposeOf } from '../../../data/oob.js';

/** Attachment URLs of a bubble, and the size of its box before the image arrives. */

/** Width of the server's thumbnails that bubbles request (`?thumbnail=`). */
export const THUMBNAIL_WIDTH = 320;
/** Largest box of an inline image or video in a bubble, in CSS pixels. */
const MAX_BOX = { width: 280, height: 280 };
/** Box of a picture whose size the sender did not give. */
const UNKNOWN_BOX = { width: 240, height: 180 };

/** Returns the server's thumbnail URL for a file on this server's upload service (same origin as the client), else the file's URL. */
export function thumbnailUrl(attachment: Attachment, origin = location.origin): string {
  try {
    const url = new URL(attachment.url);
    if (url.origin !== origin || !url.pathname.startsWith('/upload/')) return attachment.url;
    url.searchParams.set('thumbnail', String(THUMBNAIL_WIDTH));
    return url.href;
  } catch {
    return attachment.url;
  }
}

/** Computes the box of an image or video from the sender's width and height, so the list does not jump when it loads. */
export function mediaBox(attachment: Attachment): { width: number; height: number } {
  const { width, height } = attachment;
  if (!width || !height) return UNKNOWN_BOX;
  const scale = Math.min(1, MAX_BOX.width / width, MAX_BOX.height / height);
  return { width: Math.max(48, Math.round(width * scale)), height: Math.max(48, Math.round(height * scale)) };
}

export function kindOf(attachment: Attachment): 'image' | 'voice' | 'video' | 'file' {
  const purpose = attachment.purpose ?? purposeOf(attachment.type);
  return purpose === 'screenshot' ? 'image' : purpose;
}
