import pino, { type Logger } from 'pino';

/**
 * Creates the process logger: JSON lines on stdout. Secrets never reach it: SASL
 * payloads, passwords, tokens and message bodies are not logged, and the paths below
 * are redacted in case an object carrying them is logged by mistake.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}
