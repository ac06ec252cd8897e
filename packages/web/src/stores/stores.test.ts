import { describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../data/index.js';
import { sortConversations, isMuted } from './conversations.js';
import { correctable, mergeWindow } from './messages.js';
import { loadSettings, defaultSettings } from './settings.js';
import { resolveTheme } from './theme.js';
import { serviceUrl } from './connector.js';
import { summarize } from './contacts.js';
import { roomLocalPart } from './rooms.js';
import type { PresenceInfo } from './protocol/presence.js';

function message(key: string, direction: 'in' | 'out' = 'in'): Message {
  return { key, conversation: 'bob@example.test', kind: 'chat', direction, from: 'bob@example.test', body: key, timestamp: 0, state: 'received', tokens: [] };
}

function conversation(jid: string, pinned: 0 | 1, lastActivity: number, mutedUntil = 0): Conversation {
  return { jid, kind: 'chat', preview: '', lastActivity, unread: 0, pinned, mutedUntil, archived: false, reachedBeginning: false };
}

describe('mergeWindow', () => {
  const window = [message('b'), message('c'), message('d')];

  it('updates rows inside the window', () => {
    const merged = mergeWindow(window, [{ ...message('c'), body: 'edited' }], { older: false, newer: true });
    expect(merged.map((row) => row.body)).toEqual(['b', 'edited', 'd']);
  });

  it('appends newer rows only when the window reaches the newest', () => {
    expect(mergeWindow(window, [message('e')], { older: false, newer: true }).map((row) => row.key)).toEqual(['b', 'c', 'd', 'e']);
    expect(mergeWindow(window, [message('e')], { older: false, newer: false }).map((row) => row.key)).toEqual(['b', 'c', 'd']);
  });

  it('prepends older rows only when asked', () => {
    expect(mergeWindow(window, [message('a')], { older: true, newer: false }).map((row) => row.key)).toEqual(['a', 'b', 'c', 'd']);
    expect(mergeWindow(window, [message('a')], { older: false, newer: true }).map((row) => row.key)).toEqual(['b', 'c', 'd']);
  });

  it('fills an empty window', () => {
    expect(mergeWindow([], [message('x'), message('w')], { older: true, newer: true }).map((row) => row.key)).toEqual(['w', 'x']);
  });
});

describe('correctable', () => {
  it('offers the newest own text message', () => {
    const text = message('b', 'out');
    expect(correctable([text, message('c')])?.key).toBe('b');
    const voice = { ...message('d', 'out'), attachment: { url: 'https://example.test/upload/v.webm', name: 'v.webm', purpose: 'voice' as const } };
    expect(correctable([text, voice])).toBeUndefined();
    expect(correctable([text, { ...message('e', 'out'), retractedAt: 1 }])?.key).toBe('b');
  });
});

describe('sortConversations', () => {
  it('puts pinned first, then the newest activity', () => {
    const sorted = sortConversations([conversation('a@x', 0, 5), conversation('b@x', 1, 1), conversation('c@x', 0, 9), conversation('d@x', 1, 3)]);
    expect(sorted.map((item) => item.jid)).toEqual(['d@x', 'b@x', 'c@x', 'a@x']);
  });

  it('treats a mute as over when its end has passed', () => {
    expect(isMuted(conversation('a@x', 0, 0, Infinity))).toBe(true);
    expect(isMuted(conversation('a@x', 0, 0, 1000), 2000)).toBe(false);
    expect(isMuted(conversation('a@x', 0, 0, 0))).toBe(false);
  });
});

describe('loadSettings', () => {
  const storage = (value: string | null) => ({ getItem: () => value });

  it('returns defaults without saved settings', () => {
    expect(loadSettings(storage(null))).toEqual(defaultSettings());
    expect(loadSettings(undefined)).toEqual(defaultSettings());
  });

  it('keeps valid values and drops invalid ones', () => {
    const saved = JSON.stringify({ locale: 'zh-CN', theme: 'purple', notifications: false, sound: 'yes', lastJid: 'a@b' });
    const settings = loadSettings(storage(saved));
    expect(settings.locale).toBe('zh-CN');
    expect(settings.theme).toBe('system');
    expect(settings.notifications).toBe(false);
    expect(settings.sound).toBe(false);
    expect(settings.lastJid).toBe('a@b');
  });

  it('survives corrupt storage', () => {
    expect(loadSettings(storage('{not json'))).toEqual(defaultSettings());
    expect(loadSettings(storage(JSON.stringify({ locale: 'fr' }))).locale).toBe('auto');
  });
});

describe('resolveTheme', () => {
  it('follows the system only for system', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('serviceUrl', () => {
  it('maps a page origin to its WebSocket endpoint', () => {
    expect(serviceUrl('http://localhost:5280')).toBe('ws://localhost:5280/xmpp-websocket');
    expect(serviceUrl('https://chat.example.com/')).toBe('wss://chat.example.com/xmpp-websocket');
    expect(serviceUrl('chat.example.com')).toBe('ws://chat.example.com/xmpp-websocket');
  });

  it('keeps a WebSocket URL as given', () => {
    expect(serviceUrl('wss://chat.example.com/ws')).toBe('wss://chat.example.com/ws');
  });
});

describe('summarize', () => {
  const presence = (resource: string, show: PresenceInfo['show'], priority = 0, status?: string): PresenceInfo => ({ jid: 'a@x', resource, type: 'available', show, priority, status });

  it('is unavailable without resources', () => {
    expect(summarize({})).toEqual({ show: 'unavailable' });
  });

  it('prefers the highest priority, then the most available show', () => {
    expect(summarize({ phone: presence('phone', 'away', 0), pc: presence('pc', 'available', 0, 'at my desk') })).toEqual({ show: 'available', status: 'at my desk' });
    expect(summarize({ phone: presence('phone', 'dnd', 5), pc: presence('pc', 'available', 0) }).show).toBe('dnd');
  });
});

describe('roomLocalPart', () => {
  it('builds an address from a Latin name', () => {
    expect(roomLocalPart('Team Alpha!')).toMatch(/^team-alpha-[a-z0-9]{1,6}$/);
  });

  it('falls back for names without Latin letters', () => {
    expect(roomLocalPart('项目组')).toMatch(/^group-[a-z0-9]{1,6}$/);
  });
});
