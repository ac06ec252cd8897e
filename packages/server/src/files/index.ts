/** Storage of uploaded files behind one interface: the local disk now, shared storage for a cluster later. */
export { DiskFileStore } from './disk-file-store.js';
export { type ByteRange, type FileStat, type FileStore, FileSizeError, checkFileId } from './file-store.js';
