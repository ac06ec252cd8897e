import { describe, expect, it } from 'vitest';
import type { RosterItem } from '../../storage/index.js';
import { OWNER, accessError, relationFromRoster } from './access.js';
import { type AccessModel, defaultConfig } from './config.js';

function record(subscription: RosterItem['subscription'], groups: string[] = [], hidden = false): RosterItem {
  return { contact: 'bob@example.test', name: null, subscription, ask: false, pendingIn: false, pendingInStanza: null, approved: false, hidden, groups };
}

function decide(accessModel: AccessModel, relation: ReturnType<typeof relationFromRoster>, rosterGroups: string[] = []) {
  const error = accessError({ ...defaultConfig('node'), accessModel, rosterGroups }, relation);
  return error === undefined ? 'allowed' : `${error.condition}/${error.extra?.name ?? ''}`;
}

describe('accessError', () => {
  it('always allows the owner', () => {
    for (const model of ['open', 'presence', 'roster', 'whitelist'] as const) expect(decide(model, OWNER)).toBe('allowed');
  });

  it('open allows strangers', () => {
    expect(decide('open', relationFromRoster(null))).toBe('allowed');
  });

  it('presence needs a from subscription', () => {
    expect(decide('presence', relationFromRoster(record('from')))).toBe('allowed');
    expect(decide('presence', relationFromRoster(record('both')))).toBe('allowed');
    expect(decide('presence', relationFromRoster(record('to')))).toBe('not-authorized/presence-subscription-required');
    expect(decide('presence', relationFromRoster(null))).toBe('not-authorized/presence-subscription-required');
  });

  it('presence ignores a stored request', () => {
    expect(decide('presence', relationFromRoster(record('from', [], true)))).toBe('not-authorized/presence-subscription-required');
  });

  it('roster needs an allowed group', () => {
    expect(decide('roster', relationFromRoster(record('both', ['Friends'])), ['Friends'])).toBe('allowed');
    expect(decide('roster', relationFromRoster(record('both', ['Work'])), ['Friends'])).toBe('not-authorized/not-in-roster-group');
  });

  it('whitelist refuses everyone else', () => {
    expect(decide('whitelist', relationFromRoster(record('both')))).toBe('not-allowed/closed-node');
  });
});
