import { describe, expect, it } from 'vitest';
import { mentions, RateLimit, shouldAlert, takeAlert, type NotificationCase } from './notification-rules.js';

const base: NotificationCase = { kind: 'chat', muted: false, mention: false, onScreen: false, doNotDisturb: false, groupMentionsOnly: false, mentionsInDnd: false };

describe('notification rules', () => {
  it('alerts for a plain 1:1 message', () => {
    expect(shouldAlert(base)).toBe(true);
  });

  it('skips muted and on-screen conversations', () => {
    expect(shouldAlert({ ...base, muted: true })).toBe(false);
    expect(shouldAlert({ ...base, onScreen: true })).toBe(false);
    expect(shouldAlert({ ...base, kind: 'groupchat', mention: true, muted: true })).toBe(false);
  });

  it('keeps quiet in do-not-disturb', () => {
    expect(shouldAlert({ ...base, doNotDisturb: true })).toBe(false);
    expect(shouldAlert({ ...base, doNotDisturb: true, mentionsInDnd: true })).toBe(false);
    expect(shouldAlert({ ...base, kind: 'groupchat', mention: true, doNotDisturb: true })).toBe(false);
  });

  it('lets group mentions through dnd when allowed', () => {
    expect(shouldAlert({ ...base, kind: 'groupchat', mention: true, doNotDisturb: true, mentionsInDnd: true })).toBe(true);
    expect(shouldAlert({ ...base, kind: 'groupchat', mention: false, doNotDisturb: true, mentionsInDnd: true })).toBe(false);
  });

  it('limits groups to mentions when chosen', () => {
    expect(shouldAlert({ ...base, kind: 'groupchat' })).toBe(true);
    expect(shouldAlert({ ...base, kind: 'groupchat', groupMentionsOnly: true })).toBe(false);
    expect(shouldAlert({ ...base, kind: 'groupchat', groupMentionsOnly: true, mention: true })).toBe(true);
    expect(shouldAlert({ ...base, groupMentionsOnly: true })).toBe(true);
  });
});

describe('mention detection', () => {
  it('finds whole-word nicks', () => {
    expect(mentions('hi Alice, look', 'alice')).toBe(true);
    expect(mentions('@alice look', 'Alice')).toBe(true);
    expect(mentions('alice', 'alice')).toBe(true);
    expect(mentions('你好 alice！', 'alice')).toBe(true);
  });

  it('ignores nicks inside words', () => {
    expect(mentions('the annual report', 'ann')).toBe(false);
    expect(mentions('malice aforethought', 'alice')).toBe(false);
    expect(mentions('anything', '')).toBe(false);
  });

  it('finds a later whole-word match', () => {
    expect(mentions('annual ann', 'ann')).toBe(true);
  });
});

describe('notification rate limit', () => {
  it('allows five a minute', () => {
    let now = 0;
    const limit = new RateLimit(5, () => now);
    const allowed = Array.from({ length: 7 }, () => limit.allow());
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
    now = 60_000;
    expect(limit.allow()).toBe(true);
  });

  it('counts only alerts that reach the user', () => {
    const limit = new RateLimit(5, () => 0);
    const silent = { sound: false, notifications: true };
    for (let i = 0; i < 10; i++) expect(takeAlert(limit, silent, 'default')).toBeUndefined();
    for (let i = 0; i < 10; i++) expect(takeAlert(limit, { sound: false, notifications: false }, 'granted')).toBeUndefined();

    const shown = Array.from({ length: 6 }, () => takeAlert(limit, silent, 'granted'));
    expect(shown.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => ({ sound: false, notification: true })));
    expect(shown[5]).toBeUndefined();
  });

  it('still counts a sound played without permission for notifications', () => {
    const limit = new RateLimit(1, () => 0);
    expect(takeAlert(limit, { sound: true, notifications: true }, 'denied')).toEqual({ sound: true, notification: false });
    expect(takeAlert(limit, { sound: true, notifications: true }, 'granted')).toBeUndefined();
  });
});
