import type { Element, XmlParseError } from '@parley/xmpp';
import type { ChannelBinding } from '../auth/channel-binding.js';

/** Callbacks through which a transport reports to the session it carries. */
export interface TransportEvents {
  streamStart(header: Element): void;
  element(element: Element): void;
  streamEnd(): void;
  parseError(error: XmlParseError): void;
  /** The connection is gone; `reason` is for the log. */
  closed(reason: string): void;
}


/**
 * One client connection as the session sees it: a TCP stream (RFC 6120), a
 * WebSocket (RFC 7395) or a BOSH session (XEP-0206). The transport owns framing, XML parsing and TLS; the
 * session owns the protocol.
 */
export interface Transport {
  readonly kind: 'tcp' | 'websocket' | 'bosh';
  readonly remoteAddress: string;
  readonly loopback: boolean;
  /** True once the connection is encrypted: direct TLS, STARTTLS done, or wss. */
  readonly secure: boolean;
  /** True when STARTTLS can still be offered on this connection. */
  readonly canStartTls: boolean;

  attach(events: TransportEvents): void;
  /** Opens our side of the stream with these attributes (id, from, version, xml:lang). */
  openStream(attrs: Record<string, string>): void;
  send(element: Element): void;
  /** Sends several elements, coalesced into one write where the framing allows it. */
  sendMany(elements: Element[]): void;
  /** Sends a stream error (in the streams namespace), closes the stream and the connection. */
  closeWithError(error: Element): void;
  /** Closes our side of the stream and then the connection. */
  closeStream(): void;
  /** Upgrades a TCP connection after `<proceed/>` was sent, and resets the parser. */
  startTls(): Promise<void>;
  /** Forgets parser state for a stream restart after SASL success. */
  restart(): void;
  /** Channel binding data of the TLS connection, one entry per type; empty without TLS. */
  channelBindings(): ChannelBinding[];
  /** Stops reading until `resume`, for back-pressure and rate limits. */
  pause(): void;
  resume(): void;
  /** Bytes written but not yet flushed to the kernel, for back-pressure on slow readers. */
  readonly pendingBytes: number;
}
