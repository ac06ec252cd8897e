/** Length limits of recordings, in milliseconds. */

/** A voice message stops and is sent when it reaches this length. */
export const VOICE_MAX_MS = 5 * 60_000;

/** A shorter voice message is discarded, because it is almost always a slip of the finger. */
export const VOICE_MIN_MS = 1_000;

/** A video message stops recording at this length and goes to review. */
export const VIDEO_MAX_MS = 60_000;

/** The camera resolution asked for; the browser may deliver another. */
export const VIDEO_IDEAL = { width: 640, height: 480 } as const;
