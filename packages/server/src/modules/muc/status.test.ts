import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './room-config.js';
import { configChangeCodes, joinSelfCodes, leaveCodes, seesRealJids } from './status.js';

describe('joinSelfCodes', () => {
  it('always has 110, then 100, 170 and 201 when they apply', () => {
    expect(joinSelfCodes({ created: false, nonAnonymous: false, logged: false })).toEqual([110]);
    expect(joinSelfCodes({ created: true, nonAnonymous: true, logged: true })).toEqual([110, 100, 170, 201]);
  });
});

describe('leaveCodes', () => {
  it('names the removal, the new nick and the self copy', () => {
    expect(leaveCodes({ self: true })).toEqual([110]);
    expect(leaveCodes({ self: false, newNick: true })).toEqual([303]);
    expect(leaveCodes({ self: true, removal: 'kick' })).toEqual([307, 110]);
    expect(leaveCodes({ self: false, removal: 'ban' })).toEqual([301]);
    expect(leaveCodes({ self: false, removal: 'affiliation' })).toEqual([321]);
    expect(leaveCodes({ self: false, removal: 'members-only' })).toEqual([322]);
    expect(leaveCodes({ self: true, removal: 'shutdown' })).toEqual([332, 110]);
  });
});

describe('configChangeCodes', () => {
  it('sends 172 or 173 for the privacy change and 104 for the rest', () => {
    expect(configChangeCodes(DEFAULT_CONFIG, DEFAULT_CONFIG)).toEqual([]);
    expect(configChangeCodes(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, whoisAnyone: true })).toEqual([172]);
    expect(configChangeCodes({ ...DEFAULT_CONFIG, whoisAnyone: true }, { ...DEFAULT_CONFIG, name: 'x' })).toEqual([173, 104]);
    expect(configChangeCodes(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, moderated: true })).toEqual([104]);
  });
});

describe('seesRealJids', () => {
  it('real JIDs by room anonymity', () => {
    expect(seesRealJids('participant', DEFAULT_CONFIG)).toBe(false);
    expect(seesRealJids('moderator', DEFAULT_CONFIG)).toBe(true);
    expect(seesRealJids('visitor', { ...DEFAULT_CONFIG, whoisAnyone: true })).toBe(true);
  });
});
