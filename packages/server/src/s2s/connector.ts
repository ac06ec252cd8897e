import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Logger } from 'pino';
import { type Element, NS, x } from '@parley/xmpp';
import type { Config } from '../config.js';
import { ElementInbox, NegotiationError } from './inbox.js';
import type { Resolver, Target } from './resolver.js';
import { ServerStreamSocket } from './stream-socket.js';
import type { S2sTls } from './tls.js';

/** The parts of the federation service that an outgoing connection uses. */
export interface ConnectorContext {
  readonly config: Config;
  readonly log: Logger;
  readonly resolver: Resolver;
  readonly tls: S2sTls;
}

/** An outgoing stream after TCP, TLS and the stream header, ready for authentication. */
export interface OpenedStream {
  stream: ServerStreamSocket;
  inbox: ElementInbox;
  /** The id the receiving server gave its stream header. */
  streamId: string;
  features: Element;
  target: Target;
}

/**
 * Connects from `local` to the server of `remote`: resolves it, tries each target in order,
 * opens the stream and negotiates TLS (STARTTLS, or direct TLS for XEP-0368 targets).
 * Rejects with a NegotiationError once every target failed or `deadline` (a Date.now() value) passed.
 */
export async function openOutgoingStream(ctx: ConnectorContext, local: string, remote: string, deadline: number): Promise<OpenedStream> {
  let targets: Target[];
  try {
    targets = await ctx.resolver.resolve(remote);
  } catch (err) {
    throw new NegotiationError(`resolving ${remote} failed: ${(err as Error).message}`);
  }
  if (targets.length === 0) throw new NegotiationError(`${remote} publishes no server-to-server service`);

  let lastError: NegotiationError | undefined;
  for (const target of targets) {
    if (Date.now() >= deadline) break;
    try {
      return await openTarget(ctx, target, local, remote, deadline);
    } catch (err) {
      lastError = err instanceof NegotiationError ? err : new NegotiationError((err as Error).message);
      ctx.log.info({ remote, host: target.host, port: target.port, err: lastError.message }, 'server-to-server connection attempt failed');
    }
  }
  if (Date.now() >= deadline) throw new NegotiationError(`connecting to ${remote} timed out`, 'remote-server-timeout');
  throw lastError ?? new NegotiationError(`no server of ${remote} could be reached`);
}

async function openTarget(ctx: ConnectorContext, target: Target, local: string, remote: string, deadline: number): Promise<OpenedStream> {
  const socket = await connectSocket(ctx, target, remote, deadline - Date.now());
  const stream = new ServerStreamSocket(socket, ctx.config.sessions.max_stanza_bytes);
  const inbox = new ElementInbox();
  stream.attach({
    header: (header) => inbox.push(header),
    element: (element) => inbox.push(element),
    end: () => inbox.fail(new NegotiationError(`${remote} closed the stream during negotiation`)),
    parseError: (error) => {
      inbox.fail(new NegotiationError(`${remote} sent invalid XML: ${error.message}`));
      stream.destroy();
    },
    closed: (reason) => inbox.fail(new NegotiationError(`${remote}: ${reason} during negotiation`)),
  });

  try {
    let opened = await restartStream(stream, inbox, local, remote, deadline);
    if (!stream.secure) {
      if (opened.features.getChild('starttls', NS.TLS)) {
        await startTls(ctx, stream, inbox, remote, deadline);
        opened = await restartStream(stream, inbox, local, remote, deadline);
      } else if (tlsRequired(ctx.config, stream.loopback)) {
        throw new NegotiationError(`${remote} offers no STARTTLS, and [s2s] require_tls is set`);
      }
    }
    return { stream, inbox, target, ...opened };
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/** True when a stream to or from a peer at this address must use TLS. */
export function tlsRequired(config: Config, loopback: boolean): boolean {
  return config.s2s.require_tls && !(loopback && config.s2s.allow_plaintext_on_loopback);
}

/** Opens (or reopens, after TLS or SASL) our stream and reads the peer's header and features. */
export async function restartStream(
  stream: ServerStreamSocket,
  inbox: ElementInbox,
  local: string,
  remote: string,
  deadline: number,
): Promise<{ streamId: string; features: Element }> {
  stream.openStream({ from: local, to: remote, version: '1.0' });
  const header = await inbox.next('the stream header', deadline - Date.now());
  if (header.name !== 'stream' || header.ns !== NS.STREAM) throw unexpected(remote, header, 'the stream header');
  if (header.attrs.xmlns !== NS.SERVER) throw new NegotiationError(`${remote} opened a stream in ${header.attrs.xmlns ?? 'no namespace'}, not ${NS.SERVER}`);

  const features = await inbox.next('stream features', deadline - Date.now());
  if (features.name !== 'features' || features.ns !== NS.STREAM) throw unexpected(remote, features, 'stream features');
  return { streamId: header.attr('id') ?? '', features };
}

async function startTls(ctx: ConnectorContext, stream: ServerStreamSocket, inbox: ElementInbox, remote: string, deadline: number): Promise<void> {
  stream.send(x('starttls', NS.TLS));
  const reply = await inbox.next('the STARTTLS reply', deadline - Date.now());
  if (reply.name !== 'proceed' || reply.ns !== NS.TLS) throw unexpected(remote, reply, '<proceed/>');
  try {
    await stream.startClientTls(ctx.tls.clientOptions(remote, false));
  } catch (err) {
    throw new NegotiationError(`the TLS handshake with ${remote} failed: ${(err as Error).message}`);
  }
}

/** Builds the error for an element the negotiation did not expect, naming a stream error's condition. */
export function unexpected(remote: string, element: Element, expected: string): NegotiationError {
  if (element.name === 'error' && element.ns === NS.STREAM) {
    const condition = element.getChildByNs(NS.STREAMS)?.name ?? 'undefined-condition';
    return new NegotiationError(`${remote} sent the stream error ${condition}`);
  }
  return new NegotiationError(`${remote} sent <${element.name}/> in ${element.ns} where ${expected} was expected`);
}

function connectSocket(ctx: ConnectorContext, target: Target, remote: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = target.directTls
      ? connectTls({ host: target.host, port: target.port, ...ctx.tls.clientOptions(remote, true) })
      : connectTcp({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NegotiationError(`connecting to ${target.host}:${target.port} timed out`, 'remote-server-timeout'));
    }, Math.max(timeoutMs, 1));
    socket.once(target.directTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setKeepAlive(true, 60_000);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new NegotiationError(`connecting to ${target.host}:${target.port} failed: ${err.message}`));
    });
  });
}
