import type { XmppClientLike } from '../xmpp/index.js';

export type StartOutcome = 'online' | 'offline';

/** How long a sign-in with stored keys waits for the server before it opens on the stored data. */
export const OFFLINE_AFTER_MS = 4_000;

/**
 * Starts `client` for an account that signs in with stored keys. Resolves 'online' once the
 * session is up. Resolves 'offline' when the browser reports no network, when the first
 * connection attempt fails, or after OFFLINE_AFTER_MS (a network that drops packets). The app
 * then opens on the stored conversations while the client keeps reconnecting by itself.
 * Rejects as start() does when the server rejects the login before any of these.
 */
export function startOrGoOffline(client: XmppClientLike, waitMs = OFFLINE_AFTER_MS): Promise<StartOutcome> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: StartOutcome): void => {
      clearTimeout(timer);
      stop();
      resolve(outcome);
    };

    const stop = client.on('status', (status) => {
      if (status === 'waiting-to-reconnect') settle('offline');
    });
    client.start().then(
      () => settle('online'),
      (err: unknown) => {
        clearTimeout(timer);
        stop();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );

    if (typeof navigator !== 'undefined' && navigator.onLine === false) settle('offline');
    else timer = setTimeout(() => settle('offline'), waitMs);
  });
}
