/**
 * Thumbnails of uploaded images: `?thumbnail=WIDTH` on a file's URL. Each is made once with
 * sharp, stored next to its file in the FileStore and deleted with it. EXIF orientation is
 * applied and metadata dropped; JPEG files give JPEG thumbnails, other formats WebP (which
 * keeps transparency).
 */
import sharp from 'sharp';
import type { Logger } from 'pino';
import { ApiProblem } from '../../admin/problem.js';
import type { FileStore } from '../../files/index.js';
import type { UploadRecord } from '../../storage/index.js';
import { essenceOf } from './media-types.js';

export const THUMBNAIL_WIDTHS = [160, 320, 640] as const;

/** Largest image decoded, in pixels (a 8000 × 5000 photo), so a small file cannot expand into gigabytes. */
const MAX_INPUT_PIXELS = 40_000_000;
/** Largest file a thumbnail is made of; its bytes are read into memory for decoding. */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Thumbnails decoded at the same time; the rest wait. */
const CONCURRENCY = 2;

const SOURCE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);
/** Formats sharp may decode for a thumbnail, whatever the file claims to be (AVIF is HEIF with AV1). */
const DECODED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'heif']);

/** Ids under which the thumbnails of file `id` are stored. */
export function thumbnailIds(id: string): string[] {
  return THUMBNAIL_WIDTHS.map((width) => thumbnailId(id, width));
}

/** Returns the media type of a file's thumbnails, or undefined when its type has none. */
export function thumbnailTypeOf(contentType: string): 'image/jpeg' | 'image/webp' | undefined {
  const essence = essenceOf(contentType);
  if (!SOURCE_TYPES.has(essence)) return undefined;
  return essence === 'image/jpeg' ? 'image/jpeg' : 'image/webp';
}

export function isThumbnailWidth(width: number): width is (typeof THUMBNAIL_WIDTHS)[number] {
  return (THUMBNAIL_WIDTHS as readonly number[]).includes(width);
}

export class Thumbnailer {
  private readonly pending = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly store: FileStore,
    private readonly log: Logger,
  ) {}

  /** Returns the id of the file's thumbnail of `width`, making it first when needed; throws ApiProblem 404 or 415. */
  async thumbnail(record: UploadRecord, width: number): Promise<string> {
    const type = thumbnailTypeOf(record.contentType);
    if (type === undefined) throw new ApiProblem(404, 'Not Found', `Files of type ${essenceOf(record.contentType)} have no thumbnails.`);
    const id = thumbnailId(record.id, width);
    if (await this.store.stat(id)) return id;

    let making = this.pending.get(id);
    if (!making) {
      making = this.limited(() => this.make(record, id, width, type)).finally(() => this.pending.delete(id));
      this.pending.set(id, making);
    }
    await making;
    return id;
  }

  private async make(record: UploadRecord, id: string, width: number, type: 'image/jpeg' | 'image/webp'): Promise<void> {
    if (await this.store.stat(id)) return;
    if (record.size > MAX_INPUT_BYTES) throw undecodable(`The image is larger than ${MAX_INPUT_BYTES} bytes.`);
    const input = await this.read(record.id);

    let output: Buffer;
    try {
      const metadata = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
      if (!metadata.format || !DECODED_FORMATS.has(metadata.format)) throw undecodable(`The file is not an image of type ${essenceOf(record.contentType)}.`);
      const pipeline = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, animated: false }).rotate().resize({ width, withoutEnlargement: true });
      output = await (type === 'image/jpeg' ? pipeline.jpeg({ quality: 80, mozjpeg: true }) : pipeline.webp({ quality: 75 })).toBuffer();
    } catch (err) {
      if (err instanceof ApiProblem) throw err;
      this.log.info({ err: (err as Error).message, type: record.contentType }, 'an uploaded image could not be decoded for a thumbnail');
      throw undecodable('The image could not be decoded.');
    }
    await this.store.put(id, [output], output.length);
  }

  private async read(id: string): Promise<Buffer> {
    const stream = await this.store.open(id);
    if (!stream) throw new ApiProblem(404, 'Not Found', 'The file is gone.');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function thumbnailId(id: string, width: number): string {
  return `${id}.t${width}`;
}

function undecodable(detail: string): ApiProblem {
  return new ApiProblem(415, 'Unsupported Media Type', detail);
}
