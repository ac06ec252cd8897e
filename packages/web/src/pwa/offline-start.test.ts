import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Emitter } from '../xmpp/emitter.js';
import { XmppClient, type ConnectionStatus, type XmppClientLike } from '../xmpp/index.js';
import { startOrGoOffline } from './offline-start.js';

/** A client whose start() settles only when the test settles it. It has only start() and status events. */
function controlledClient() {
  const events = new Emitter<{ status: ConnectionStatus }>();
  let settle: { resolve: () => void; reject: (err: Error) => void } = { resolve: () => undefined, reject: () => undefined };
  const client = {
    on: (event: 'status', listener: (status: ConnectionStatus) => void) => events.on(event, listener),
    start: () => new Promise<void>((resolve, reject) => (settle = { resolve, reject })),
  } as unknown as XmppClientLike;
  return { client, settle: () => settle };
}

/** Returns a port of 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('start with stored keys', () => {
  it('resolves online when the session comes up', async () => {
    const { client, settle } = controlledClient();
    const outcome = startOrGoOffline(client, 10_000);
    settle().resolve();
    await expect(outcome).resolves.toBe('online');
  });

  it('goes offline when the first attempt fails', async () => {
    const port = await closedPort();
    const client = new XmppClient({ service: `ws://127.0.0.1:${port}/xmpp-websocket`, jid: 'alice@example.test', password: 'unused', webSocket: WebSocket as never });
    try {
      await expect(startOrGoOffline(client, 10_000)).resolves.toBe('offline');
      // The client keeps trying by itself.
      expect(client.status).toBe('waiting-to-reconnect');
    } finally {
      await client.stop();
    }
  });

  it('goes offline when the server stays silent', async () => {
    const { client } = controlledClient();
    await expect(startOrGoOffline(client, 20)).resolves.toBe('offline');
  });

  it('rejects a login the server rejects', async () => {
    const { client, settle } = controlledClient();
    const outcome = startOrGoOffline(client, 10_000);
    settle().reject(new Error('not-authorized'));
    await expect(outcome).rejects.toThrow('not-authorized');
  });
});
