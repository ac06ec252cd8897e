/** SASL ANONYMOUS (RFC 4505): a login without credentials, under a random username. */
import { randomBytes } from 'node:crypto';

import type { SaslMechanism, SaslStep } from './mechanisms.js';

export const ANONYMOUS = 'ANONYMOUS';

/** RFC 4505 section 2: the trace is at most 255 characters of UTF-8, so at most 1020 bytes. */
const MAX_TRACE_BYTES = 1020;
const MAX_TRACE_CHARS = 255;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Returns a username nobody can guess: 128 random bits as lower-case hex, a valid localpart. */
export function randomAnonymousUsername(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Server side of one ANONYMOUS exchange. The client's trace message is checked for form and
 * then dropped: it is neither stored nor logged. Success carries a fresh random username; the
 * session decides whether it admits one more anonymous user.
 */
export class AnonymousServer implements SaslMechanism {
  private started = false;

  async start(initialResponse: Buffer | null): Promise<SaslStep> {
    if (this.started) return { kind: 'failure', condition: 'malformed-request', text: 'The exchange has already started.' };
    this.started = true;
    if (initialResponse === null) return { kind: 'challenge', data: Buffer.alloc(0) };
    return this.finish(initialResponse);
  }

  async next(response: Buffer): Promise<SaslStep> {
    return this.finish(response);
  }

  private finish(trace: Buffer): SaslStep {
    if (!validTrace(trace)) return { kind: 'failure', condition: 'malformed-request', text: 'The trace must be at most 255 characters of UTF-8.' };
    return { kind: 'success', data: Buffer.alloc(0), username: randomAnonymousUsername() };
  }
}

function validTrace(trace: Buffer): boolean {
  if (trace.length > MAX_TRACE_BYTES) return false;
  try {
    return [...UTF8.decode(trace)].length <= MAX_TRACE_CHARS;
  } catch {
    return false;
  }
}
