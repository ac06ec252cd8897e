/**
 * The storage interface of uploaded files. Ids are opaque names made of letters, digits,
 * '.', '_', '~' and '-'. The store decides where the bytes go, so a cluster can put them on
 * shared storage behind the same interface.
 */
import type { Readable } from 'node:stream';

/** Size and modification time of a stored file. */
export interface FileStat {
  size: number;
  modifiedAt: number;
}

/** Bytes `start` to `end` of a file, both inclusive, as in an HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface FileStore {
  /**
   * Stores the stream under `id` when it yields exactly `size` bytes. A file becomes visible
   * only when complete and on stable storage. On any failure nothing is left and the promise
   * rejects, with FileSizeError when the stream was longer or shorter.
   */
  put(id: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): Promise<void>;
  /** Opens the file, or the range of it; undefined when there is no such file. */
  open(id: string, range?: ByteRange): Promise<Readable | undefined>;
  stat(id: string): Promise<FileStat | undefined>;
  /** Deletes the file; deleting a missing file is no error. */
  delete(id: string): Promise<void>;
  /** Every stored id, for sweeps. */
  list(): AsyncIterable<string>;
}

/** The stream given to `put` did not yield the announced number of bytes. */
export class FileSizeError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
    readonly tooLong: boolean,
  ) {
    super(tooLong ? `more than the announced ${expected} bytes` : `${received} of the announced ${expected} bytes`);
    this.name = 'FileSizeError';
  }
}

const ID_PATTERN = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,199}$/;

/** Throws unless `id` is a valid file id. */
export function checkFileId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid file id ${JSON.stringify(id)}`);
}
