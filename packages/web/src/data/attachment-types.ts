/** The records of files sent and received: the file a message carries and the metadata a send takes. */

/** Why a file was sent, which decides how a message shows it. */
export type AttachmentPurpose = 'file' | 'image' | 'voice' | 'video' | 'screenshot';

/** Metadata of a file beyond its bytes. Capture tools fill in what they measured. */
export interface AttachmentMeta {
  purpose?: AttachmentPurpose;
  /** Length of a voice or video recording. */
  durationMs?: number;
  width?: number;
  height?: number;
}

/** A file a message carries (XEP-0066 out-of-band data, XEP-0447 file metadata when present). */
export interface Attachment extends AttachmentMeta {
  url: string;
  name: string;
  /** MIME type, when the sender gave it. */
  type?: string;
  /** Bytes, when the sender gave it. */
  size?: number;
}

/** Reason of a failed upload. Each has its own localized text, and most can be retried. */
export type UploadFailure = 'too-large' | 'quota' | 'refused-type' | 'network' | 'cancelled' | 'no-service' | 'server';

/**
 * A file waiting to be uploaded and sent (the `uploads` table). The Blob stays in IndexedDB
 * until the message is in the outbox, so a reload or a closed tab can retry.
 */
export interface PendingUpload {
  /** Becomes the message's origin-id and stanza id once sent. */
  id: string;
  conversation: string;
  kind: 'chat' | 'groupchat';
  file: Blob;
  name: string;
  type: string;
  size: number;
  meta: AttachmentMeta;
  createdAt: number;
  state: 'uploading' | 'failed';
  failure?: UploadFailure;
}
