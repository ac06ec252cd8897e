import type { Port } from './protocol.js';

/** Wraps a MessagePort (a SharedWorker connection) as a Port. */
export function messagePort<In, Out>(port: MessagePort): Port<In, Out> {
  return {
    post: (message) => port.postMessage(message),
    listen: (listener) => {
      port.onmessage = (event: MessageEvent<In>) => listener(event.data);
    },
    close: () => port.close(),
  };
}

interface Envelope<T> {
  from: string;
  to: string;
  message: T;
}

/**
 * Returns one tab's view of a BroadcastChannel shared by the tabs of an account: it posts envelopes
 * addressed to `to` and hears those addressed to `self` or to everyone ('*').
 */
export function channelPort<In, Out>(channel: BroadcastChannel, self: string, to: string): Port<In, Out> {
  let listener: ((message: In) => void) | undefined;
  const onMessage = (event: MessageEvent<Envelope<In>>): void => {
    const envelope = event.data;
    if (envelope && (envelope.to === self || (envelope.to === '*' && envelope.from !== self))) listener?.(envelope.message);
  };
  channel.addEventListener('message', onMessage);
  return {
    post: (message) => channel.postMessage({ from: self, to, message } satisfies Envelope<Out>),
    listen: (l) => (listener = l),
    close: () => channel.removeEventListener('message', onMessage),
  };
}

/** Passes the envelopes addressed to `self` to `listener` with their sender (the leader's side). */
export function listenChannel<T>(channel: BroadcastChannel, self: string, listener: (from: string, message: T) => void): () => void {
  const onMessage = (event: MessageEvent<Envelope<T>>): void => {
    if (event.data?.to === self) listener(event.data.from, event.data.message);
  };
  channel.addEventListener('message', onMessage);
  return () => channel.removeEventListener('message', onMessage);
}
