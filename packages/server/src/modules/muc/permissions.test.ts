import { describe, expect, it } from 'vitest';
import { affiliationChangeRefusal, defaultRole, listRefusal, maySendPrivate, maySetSubject, roleChangeRefusal } from './permissions.js';

describe('defaultRole', () => {
  it('follows XEP-0045 section 5.1.2', () => {
    expect(defaultRole('owner', false)).toBe('moderator');
    expect(defaultRole('admin', true)).toBe('moderator');
    expect(defaultRole('member', true)).toBe('participant');
    expect(defaultRole('none', false)).toBe('participant');
    expect(defaultRole('none', true)).toBe('visitor');
    expect(defaultRole('outcast', false)).toBe('none');
  });
});

describe('roleChangeRefusal', () => {
  const moderatorOwner = { affiliation: 'owner', role: 'moderator' } as const;
  const moderatorNone = { affiliation: 'none', role: 'moderator' } as const;
  const participant = { affiliation: 'none', role: 'participant' } as const;
  const admin = { affiliation: 'admin', role: 'moderator' } as const;

  it('lets moderators kick and voice participants and visitors', () => {
    expect(roleChangeRefusal(moderatorNone, participant, 'none')).toBeUndefined();
    expect(roleChangeRefusal(moderatorNone, participant, 'visitor')).toBeUndefined();
    expect(roleChangeRefusal(moderatorNone, { affiliation: 'member', role: 'visitor' }, 'participant')).toBeUndefined();
  });

  it('refuses non-moderators with forbidden', () => {
    expect(roleChangeRefusal(participant, participant, 'none')).toBe('forbidden');
  });

  it('keeps admins and owners from being kicked or silenced (not-allowed)', () => {
    expect(roleChangeRefusal(moderatorOwner, admin, 'none')).toBe('not-allowed');
    expect(roleChangeRefusal(moderatorNone, admin, 'visitor')).toBe('not-allowed');
  });

  it('leaves granting and revoking moderator to admins and owners', () => {
    expect(roleChangeRefusal(moderatorNone, participant, 'moderator')).toBe('forbidden');
    expect(roleChangeRefusal(moderatorOwner, participant, 'moderator')).toBeUndefined();
    expect(roleChangeRefusal(moderatorNone, { affiliation: 'none', role: 'moderator' }, 'participant')).toBe('forbidden');
    expect(roleChangeRefusal(admin, { affiliation: 'member', role: 'moderator' }, 'participant')).toBeUndefined();
  });
});

describe('affiliationChangeRefusal', () => {
  it('lets owners change anything', () => {
    expect(affiliationChangeRefusal('owner', 'admin', 'outcast')).toBeUndefined();
    expect(affiliationChangeRefusal('owner', 'none', 'owner')).toBeUndefined();
  });

  it('lets admins manage members and outcasts below them', () => {
    expect(affiliationChangeRefusal('admin', 'none', 'member')).toBeUndefined();
    expect(affiliationChangeRefusal('admin', 'member', 'outcast')).toBeUndefined();
    expect(affiliationChangeRefusal('admin', 'owner', 'outcast')).toBe('not-allowed');
    expect(affiliationChangeRefusal('admin', 'admin', 'none')).toBe('not-allowed');
    expect(affiliationChangeRefusal('admin', 'none', 'admin')).toBe('forbidden');
  });

  it('refuses members and others', () => {
    expect(affiliationChangeRefusal('member', 'none', 'member')).toBe('forbidden');
    expect(affiliationChangeRefusal('none', 'none', 'outcast')).toBe('forbidden');
  });
});

describe('listRefusal', () => {
  it('list access by role and affiliation', () => {
    expect(listRefusal({ affiliation: 'none', role: 'moderator' }, { role: 'participant' })).toBeUndefined();
    expect(listRefusal({ affiliation: 'member', role: 'participant' }, { role: 'moderator' })).toBe('forbidden');
    expect(listRefusal({ affiliation: 'admin', role: 'moderator' }, { affiliation: 'outcast' })).toBeUndefined();
    expect(listRefusal({ affiliation: 'admin', role: 'moderator' }, { affiliation: 'owner' })).toBe('forbidden');
    expect(listRefusal({ affiliation: 'owner', role: 'moderator' }, { affiliation: 'admin' })).toBeUndefined();
    expect(listRefusal({ affiliation: 'member', role: 'participant' }, { affiliation: 'member' })).toBeUndefined();
    expect(listRefusal({ affiliation: 'none', role: 'participant' }, { affiliation: 'member' })).toBe('forbidden');
    expect(listRefusal({ affiliation: 'member', role: 'participant' }, { affiliation: 'outcast' })).toBe('forbidden');
  });
});

describe('maySetSubject and maySendPrivate', () => {
  it('follows the room settings', () => {
    expect(maySetSubject('moderator', false)).toBe(true);
    expect(maySetSubject('participant', false)).toBe(false);
    expect(maySetSubject('participant', true)).toBe(true);
    expect(maySetSubject('visitor', true)).toBe(false);
    expect(maySendPrivate('visitor', 'anyone')).toBe(true);
    expect(maySendPrivate('visitor', 'participants')).toBe(false);
    expect(maySendPrivate('participant', 'moderators')).toBe(false);
    expect(maySendPrivate('moderator', 'none')).toBe(false);
  });
});
