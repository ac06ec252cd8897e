import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from './router.js';

describe('hash routes', () => {
  it('round-trips a conversation JID', () => {
    const hash = formatHash('chats', 'team@conference.example.test');
    expect(parseHash(hash)).toEqual({ name: 'chats', param: 'team@conference.example.test' });
  });

  it('falls back to the chats screen', () => {
    expect(parseHash('')).toEqual({ name: 'chats', param: '' });
    expect(parseHash('#/nothing')).toEqual({ name: 'chats', param: '' });
  });

  it('survives a malformed escape', () => {
    expect(parseHash('#/chats/%E0%A4%A')).toEqual({ name: 'chats', param: '' });
  });
});
