/** Connection probes: the transports and listeners that disco cannot show. */
import { createHash } from 'node:crypto';
import { NS } from '@parley/xmpp';
import { BoshClient } from '../../test/support/bosh-client.js';
import { openClientStream, webSocketUrl } from '../../test/support/client.js';
import { RawConnection, delay, streamErrorCondition } from '../../test/support/raw.js';
import type { TestServer } from '../../test/support/server.js';
import type { ProbeName } from './requirements.js';

export interface ProbeResult {
  ok: boolean;
  /** The observation in words, free of ports and times so that the generated page is stable. */
  detail: string;
}

/** The external component the generator's server accepts on its component port (XEP-0114). */
export const PROBE_COMPONENT = { domain: 'bridge.example.test', secret: 'compliance-component-secret' };

const WAIT_MS = 5000;

/** Runs every probe; a failed probe is a result, never an exception. */
export async function runProbes(server: TestServer): Promise<Record<ProbeName, ProbeResult>> {
  return {
    'tls-version': await attempt(() => probeTlsVersion(server)),
    'direct-tls': await attempt(() => probeDirectTls(server)),
    websocket: await attempt(() => probeWebSocket(server)),
    bosh: await attempt(() => probeBosh(server)),
    component: await attempt(() => probeComponent(server)),
  };
}

async function attempt(run: () => Promise<ProbeResult>): Promise<ProbeResult> {
  try {
    return await run();
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** RFC 7590 section 3.1: TLS 1.2 or later. */
async function probeTlsVersion(server: TestServer): Promise<ProbeResult> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    const version = connection.tlsSocket?.getProtocol() ?? 'none';
    const ok = version === 'TLSv1.2' || version === 'TLSv1.3';
    return { ok, detail: ok ? 'STARTTLS negotiates TLS 1.2 or later' : `STARTTLS negotiated ${version}` };
  } finally {
    connection.destroy();
  }
}

/** XEP-0368: a stream over TLS from the first byte on the direct TLS port. */
async function probeDirectTls(server: TestServer): Promise<ProbeResult> {
  const connection = await RawConnection.tcp(server.c2sTlsPort, { tls: {} });
  try {
    const features = await connection.openStream();
    const ok = features.getChild('mechanisms', NS.SASL) !== undefined;
    return { ok, detail: ok ? 'the direct TLS port offers SASL after the TLS handshake' : 'the direct TLS port offered no SASL mechanisms' };
  } finally {
    connection.destroy();
  }
}

/** RFC 7395: a stream opened over the WebSocket endpoint with the xmpp subprotocol. */
async function probeWebSocket(server: TestServer): Promise<ProbeResult> {
  const connection = await RawConnection.websocket(webSocketUrl(server));
  try {
    const features = await connection.openStream();
    const ok = connection.protocol === 'xmpp' && features.getChild('mechanisms', NS.SASL) !== undefined;
    return { ok, detail: ok ? '/xmpp-websocket opens a stream with the xmpp subprotocol' : 'the WebSocket stream offered no SASL mechanisms' };
  } finally {
    connection.destroy();
  }
}

/** XEP-0124 and XEP-0206: a BOSH session whose stream offers SASL. */
async function probeBosh(server: TestServer): Promise<ProbeResult> {
  const client = await BoshClient.create(server.httpPort);
  client.startPolling();
  try {
    const features = await client.next((el) => el.name === 'features' && el.ns === NS.STREAM, WAIT_MS);
    const ok = features.getChild('mechanisms', NS.SASL) !== undefined;
    return { ok, detail: ok ? '/http-bind creates a session whose stream offers SASL' : 'the BOSH stream offered no SASL mechanisms' };
  } finally {
    await client.terminate().catch(() => undefined);
  }
}

/** XEP-0114: the handshake of an external component on the component port. */
async function probeComponent(server: TestServer): Promise<ProbeResult> {
  const port = server.server.addresses.component;
  if (port === undefined) return { ok: false, detail: 'the component port is not open' };

  const connection = await RawConnection.tcp(port);
  try {
    connection.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.COMPONENT}' xmlns:stream='${NS.STREAM}' to='${PROBE_COMPONENT.domain}'>`);
    for (let i = 0; i < WAIT_MS / 20 && connection.header === undefined && !connection.isClosed; i++) await delay(20);
    const streamId = connection.header?.attr('id');
    if (streamId === undefined) return { ok: false, detail: 'the component port sent no stream header' };

    const digest = createHash('sha1').update(streamId + PROBE_COMPONENT.secret).digest('hex');
    connection.write(`<handshake>${digest}</handshake>`);
    const reply = await connection.next((el) => el.name === 'handshake' || streamErrorCondition(el) !== undefined, WAIT_MS);
    const ok = reply.name === 'handshake';
    return { ok, detail: ok ? 'an external component completes the handshake' : `the handshake failed with ${streamErrorCondition(reply) ?? reply.name}` };
  } finally {
    connection.destroy();
  }
}
