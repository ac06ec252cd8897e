import { describe, expect, it } from 'vitest';
import { StanzaError, x } from '@parley/xmpp';
import { NS_INBOX_CONVERSATION, NS_PARLEY_INBOX } from './ns.js';
import { parseMute, parsePropertyChange } from './properties.js';
import { MUTED_FOREVER, muteText } from './render.js';

const NOW = 1_700_000_000_000;

function conditionOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return undefined;
}

describe('parseMute', () => {
  it('reads seconds, zero and forever', () => {
    expect(parseMute('60', NOW)).toBe(NOW + 60_000);
    expect(parseMute(' 0 ', NOW)).toBeNull();
    expect(parseMute('forever', NOW)).toBe(MUTED_FOREVER);
  });

  it('rejects other values', () => {
    expect(conditionOf(() => parseMute('-5', NOW))).toBe('bad-request');
    expect(conditionOf(() => parseMute('1.5', NOW))).toBe('bad-request');
    expect(conditionOf(() => parseMute('99999999999', NOW))).toBe('bad-request');
  });
});

describe('muteText', () => {
  it('shows the end of a mute', () => {
    expect(muteText(null, NOW)).toBe('0');
    expect(muteText(NOW - 1, NOW)).toBe('0');
    expect(muteText(NOW + 1000, NOW)).toBe(new Date(NOW + 1000).toISOString());
    expect(muteText(MUTED_FOREVER, NOW)).toBe('forever');
  });
});

describe('parsePropertyChange', () => {
  const query = (...children: ReturnType<typeof x>[]) => x('query', NS_INBOX_CONVERSATION, { jid: 'alice@example.test' }, ...children);

  it('reads every property', () => {
    const change = parsePropertyChange(
      query(
        x('archive', NS_INBOX_CONVERSATION, {}, 'true'),
        x('mute', NS_INBOX_CONVERSATION, {}, '0'),
        x('read', NS_INBOX_CONVERSATION, {}, 'true'),
        x('pin', NS_PARLEY_INBOX, {}, '1'),
      ),
      NOW,
    );
    expect(change).toEqual({ flags: { archived: true, mutedUntil: null, pinned: true }, read: true });
  });

  it('rejects marking unread and empty requests', () => {
    expect(conditionOf(() => parsePropertyChange(query(x('read', NS_INBOX_CONVERSATION, {}, 'false')), NOW))).toBe('feature-not-implemented');
    expect(conditionOf(() => parsePropertyChange(query(), NOW))).toBe('bad-request');
    expect(conditionOf(() => parsePropertyChange(query(x('archive', NS_INBOX_CONVERSATION, {}, 'maybe')), NOW))).toBe('bad-request');
  });
});
