import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { TEST_DOMAIN, withTimeout } from './support/raw.js';

const run = promisify(execFile);

// xmpp.js 0.14 reports a stream as open on the header alone and handles the features when
// they arrive. When the features came in a later segment and the client was stopped in
// between, it still sent its authentication on the closing stream ("statuses" in its suite).

const SLOW_FEATURE_MS = 30;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ tls: { starttls_on_loopback: false } });
  // A feature that takes a while to compute, as the first features after a start do (about
  // 50 ms on a loaded 2-core machine), so that a header written on its own leaves before them.
  server.server.streamFeatures.addPreAuth(() => {
    const until = Date.now() + SLOW_FEATURE_MS;
    while (Date.now() < until) {
      // busy: the features are built synchronously
    }
    return undefined;
  });
});

afterAll(async () => {
  await server?.stop();
});

// The reader runs in a process of its own: in this one it could not read while the
// server computes the features, and would always find both parts waiting.
const READER = `
const socket = require('node:net').connect({ host: '127.0.0.1', port: Number(process.argv[1]) });
socket.once('connect', () => socket.write(process.argv[2]));
socket.once('data', (chunk) => { process.stdout.write(chunk); socket.destroy(); });
`;

/** Sends a stream header from another process and resolves with the first chunk it read. */
async function firstRead(port: number): Promise<string> {
  const header = `<?xml version='1.0'?><stream:stream to='${TEST_DOMAIN}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
  const { stdout } = await run(process.execPath, ['-e', READER, String(port), header], { timeout: 10_000 });
  return stdout;
}

describe('stream open over TCP', () => {
  it('sends the stream header and the features in one segment', async () => {
    for (let i = 0; i < 3; i++) {
      const chunk = await firstRead(server.c2sPort);

      expect(chunk).toMatch(/^<\?xml version='1\.0'\?><stream:stream /);
      expect(chunk).toMatch(/<\/stream:features>$/);
    }
  });

  it('sends the stream error of a bad header with the header, then closes', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.c2sPort });
    let text = '';
    socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
    const closed = new Promise((resolve) => socket.once('close', resolve));

    socket.write(`<stream:stream to='elsewhere.test' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);

    await withTimeout(closed, 5000, 'the server did not close the connection');
    expect(text).toMatch(/<stream:stream [^>]*><stream:error><host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>.*<\/stream:error><\/stream:stream>$/);
  });
});
