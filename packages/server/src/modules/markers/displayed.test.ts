import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { readMarkerId } from './displayed.js';
import { NS_CHAT_MARKERS } from './ns.js';

const message = (name: string, id?: string) => x('message', NS.CLIENT, { type: 'chat' }, x(name, NS_CHAT_MARKERS, { id }));

describe('readMarkerId', () => {
  it('reads a displayed marker', () => {
    expect(readMarkerId(message('displayed', 'm1'))).toBe('m1');
  });

  it('reads an acknowledged marker', () => {
    expect(readMarkerId(message('acknowledged', 'm1'))).toBe('m1');
  });

  it('ignores a received marker', () => {
    expect(readMarkerId(message('received', 'm1'))).toBeUndefined();
  });

  it('ignores a marker without an id', () => {
    expect(readMarkerId(message('displayed'))).toBeUndefined();
    expect(readMarkerId(message('displayed', ''))).toBeUndefined();
  });
});
