import { describe, expect, it } from 'vitest';
import { ResumableSessions, tokenDigest } from './resumption.js';

interface Session {
  username: string | undefined;
}

function alice(): Session {
  return { username: 'alice' };
}

describe('ResumableSessions', () => {
  it('makes tokens of at least 128 bits', () => {
    const token = new ResumableSessions<Session>().register(alice());
    expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
  });

  it('makes a new token each time', () => {
    const registry = new ResumableSessions<Session>();
    expect(registry.register(alice())).not.toBe(registry.register(alice()));
  });

  it('finds a session by token and account', () => {
    const registry = new ResumableSessions<Session>();
    const session = alice();
    expect(registry.find(registry.register(session), 'alice')).toBe(session);
  });

  it('refuses the token to another account', () => {
    const registry = new ResumableSessions<Session>();
    expect(registry.find(registry.register(alice()), 'mallory')).toBeUndefined();
  });

  it('refuses an unauthenticated session', () => {
    expect(() => new ResumableSessions<Session>().register({ username: undefined })).toThrow();
  });

  it('ends a hibernating session after its timeout', async () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    const expired = new Promise<string>((resolve) => registry.hibernate(token, 20, () => resolve('expired')));
    expect(await expired).toBe('expired');
  });

  it('lists a hibernating session', () => {
    const registry = new ResumableSessions<Session>();
    const session = alice();
    registry.hibernate(registry.register(session), 60_000, () => undefined);
    expect(registry.hibernating()).toEqual([session]);
  });

  it('stops the timeout on wake', async () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    let expired = false;
    registry.hibernate(token, 20, () => {
      expired = true;
    });
    registry.wake(token);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(expired).toBe(false);
  });

  it('forgets a retired session', () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    registry.retire(token, 7);
    expect(registry.find(token, 'alice')).toBeUndefined();
  });

  it('remembers the final h of a retired session', () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    registry.retire(token, 7);
    expect(registry.endedHandled(token, 'alice')).toBe(7);
  });

  it('keeps the final h from another account', () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    registry.retire(token, 7);
    expect(registry.endedHandled(token, 'mallory')).toBeUndefined();
  });

  it('finds a session by the digest of its token', () => {
    const registry = new ResumableSessions<Session>();
    const session = alice();
    const token = registry.register(session);
    expect(registry.findByDigest(tokenDigest(token), 'alice')).toEqual({ token, session });
    expect(registry.findByDigest(tokenDigest(token), 'mallory')).toBeUndefined();
  });

  it('hides a claimed session and lets one claim win', () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    expect(registry.claim(token)).toBe(true);
    expect(registry.claim(token)).toBe(false);
    expect(registry.find(token, 'alice')).toBeUndefined();
    registry.release(token);
    expect(registry.find(token, 'alice')).toBeDefined();
  });

  it('holds the timeout of a claimed session and restarts it on release', async () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    let expired = false;
    registry.claim(token);
    registry.hibernate(token, 20, () => {
      expired = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(expired).toBe(false);
    registry.release(token);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(expired).toBe(true);
  });

  it('keeps no final h for a session handed off', () => {
    const registry = new ResumableSessions<Session>();
    const token = registry.register(alice());
    registry.handOff(token);
    expect(registry.find(token, 'alice')).toBeUndefined();
    expect(registry.endedHandled(token, 'alice')).toBeUndefined();
  });

  it('reports added and removed digests to its listener', () => {
    const registry = new ResumableSessions<Session>();
    const events: string[] = [];
    registry.listen({ added: (digest, username) => events.push(`added ${digest} ${username}`), removed: (digest) => events.push(`removed ${digest}`) });
    const first = registry.register(alice());
    registry.adopt('moved-token', alice());
    registry.retire(first, 3);
    registry.handOff('moved-token');
    const [a, b] = [tokenDigest(first), tokenDigest('moved-token')];
    expect(events).toEqual([`added ${a} alice`, `added ${b} alice`, `removed ${a}`, `removed ${b}`]);
  });
});
