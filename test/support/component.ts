/** Raw component connections (XEP-0114) for tests: senders of another domain. */
import { createHash } from 'node:crypto';
import { NS } from '@parley/xmpp';
import { RawConnection, delay, streamErrorCondition } from './raw.js';

/** Opens an authenticated component stream (XEP-0114) for `domain`: a sender of another domain. */
export async function connectComponent(port: number, domain: string, secret: string): Promise<RawConnection> {
  const connection = await RawConnection.tcp(port);
  connection.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.COMPONENT}' xmlns:stream='${NS.STREAM}' to='${domain}'>`);
  for (let i = 0; i < 100 && connection.header === undefined && !connection.isClosed; i++) await delay(20);
  const id = connection.header?.attr('id');
  if (id === undefined) throw new Error('the component stream got no header');
  connection.write(`<handshake>${createHash('sha1').update(id + secret).digest('hex')}</handshake>`);
  const reply = await connection.next((el) => el.name === 'handshake' || streamErrorCondition(el) !== undefined, 3000);
  if (reply.name !== 'handshake') throw new Error(`the component handshake failed: ${reply.toString()}`);
  return connection;
}
