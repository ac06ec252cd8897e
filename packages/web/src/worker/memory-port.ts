import type { Port } from './protocol.js';

/**
 * Two connected in-memory ports: the leader tab's own client talks to its host through them.
 * Delivery waits for a task and copies the message, as a MessagePort does, so both behave alike.
 */
export function memoryPair<A, B>(): [Port<A, B>, Port<B, A>] {
  let toLeft: ((message: A) => void) | undefined;
  let toRight: ((message: B) => void) | undefined;
  let open = true;
  const close = (): void => {
    open = false;
  };

  // A message posted before close() is still delivered, as a MessagePort's queued messages are.
  const left: Port<A, B> = {
    post: (message) => {
      if (!open) return;
      const copy = structuredClone(message);
      setTimeout(() => toRight?.(copy), 0);
    },
    listen: (listener) => (toLeft = listener),
    close,
  };
  const right: Port<B, A> = {
    post: (message) => {
      if (!open) return;
      const copy = structuredClone(message);
      setTimeout(() => toLeft?.(copy), 0);
    },
    listen: (listener) => (toRight = listener),
    close,
  };
  return [left, right];
}
