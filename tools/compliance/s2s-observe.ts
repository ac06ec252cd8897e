/** Reads the stream features a server-to-server peer receives on the s2s port, before and after STARTTLS. */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { type Element, NS, StreamParser } from '@parley/xmpp';

/** The domain the generator claims as the peer; no stanza is ever sent, so nothing checks it. */
const PEER_DOMAIN = 'compliance-peer.example.test';
const WAIT_MS = 5000;

export interface S2sFeatures {
  preTls: Element;
  postTls: Element;
}

/** Opens a jabber:server stream to `port` on 127.0.0.1, upgrades it with STARTTLS and returns both feature sets. */
export async function readS2sFeatures(port: number, domain: string): Promise<S2sFeatures> {
  const plain = await openSocket(port);
  try {
    const first = new ElementReader(plain);
    writeHeader(plain, domain);
    const preTls = await first.next((el) => el.name === 'features' && el.ns === NS.STREAM);
    plain.write(`<starttls xmlns='${NS.TLS}'/>`);
    await first.next((el) => el.name === 'proceed' && el.ns === NS.TLS);
    first.stop();

    const secure = connectTls({ socket: plain, rejectUnauthorized: false, servername: domain });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    const second = new ElementReader(secure);
    writeHeader(secure, domain);
    const postTls = await second.next((el) => el.name === 'features' && el.ns === NS.STREAM);
    secure.destroy();
    return { preTls, postTls };
  } finally {
    plain.destroy();
  }
}

function writeHeader(socket: Socket, domain: string): void {
  socket.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.SERVER}' xmlns:stream='${NS.STREAM}' from='${PEER_DOMAIN}' to='${domain}' version='1.0'>`);
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Parses the elements arriving on one socket (one layer: plain or TLS) and hands out the first match. */
class ElementReader {
  private readonly elements: Element[] = [];
  private readonly parser: StreamParser;
  private readonly onData = (chunk: Buffer) => this.parser.write(chunk);
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    this.parser = new StreamParser(
      {
        streamStart: () => undefined,
        element: (el) => {
          this.elements.push(el);
          this.wake?.();
        },
        streamEnd: () => undefined,
        error: () => undefined,
      },
      { maxStanzaBytes: 1_000_000 },
    );
    socket.on('data', this.onData);
  }

  async next(predicate: (el: Element) => boolean): Promise<Element> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const index = this.elements.findIndex(predicate);
      if (index >= 0) return this.elements.splice(index, 1)[0]!;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('the s2s port did not send the expected element in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.socket.off('data', this.onData);
  }
}
