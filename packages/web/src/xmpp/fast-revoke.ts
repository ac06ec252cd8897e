import { fastOffered, fastTokenUsable, type FastToken } from './fast.js';
import { FramedSocket, type WebSocketConstructor } from './framed-socket.js';
import { invalidateFastToken, sasl2Feature } from './sasl2.js';
import type { UserAgent } from './user-agent.js';

export interface RevokeRequest {
  service: string;
  webSocket: WebSocketConstructor;
  domain: string;
  username: string;
  userAgent: UserAgent;
  token: FastToken;
  timeoutMs: number;
}

/**
 * Deletes a FAST token on the server: a connection of its own logs in with the token and
 * `invalidate='true'`, binds nothing, and closes the stream. Rejects when the server cannot be
 * reached in `timeoutMs`, no longer offers FAST, or rejects the token.
 */
export async function revokeFastToken(request: RevokeRequest): Promise<void> {
  if (!fastTokenUsable(request.token)) return;
  const socket = await FramedSocket.open(request.service, request.webSocket, request.timeoutMs);
  const timer = setTimeout(() => socket.drop(), request.timeoutMs);
  try {
    const features = await socket.openStream(request.domain, `${request.username}@${request.domain}`);
    const authentication = sasl2Feature(features);
    if (!authentication || !fastOffered(authentication)) throw new Error('the server no longer offers FAST, so the token cannot be revoked');
    await invalidateFastToken(socket, request.username, request.userAgent, request.token);
    socket.close();
  } finally {
    clearTimeout(timer);
    socket.drop();
  }
}
