import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { Storage } from './index.js';

const NOW = 1_700_000_000_000;

let storage: Storage;

beforeEach(async () => {
  storage = await openTestStorage(':memory:');
});

afterEach(async () => {
  await storage.close();
});

describe('ApiTokenRepository', () => {
  it('creates, lists and reads tokens', async () => {
    await storage.apiTokens.create({ id: 'b', name: 'second', secretHash: '22', createdAt: NOW + 1 });
    await storage.apiTokens.create({ id: 'a', name: 'first', secretHash: '11', createdAt: NOW });
    expect((await storage.apiTokens.list()).map((token) => token.id)).toEqual(['a', 'b']);
    expect(await storage.apiTokens.get('a')).toEqual({ id: 'a', name: 'first', secretHash: '11', createdAt: NOW, lastUsedAt: null, revokedAt: null });
    expect(await storage.apiTokens.get('missing')).toBeNull();
  });

  it('revokes a token once', async () => {
    await storage.apiTokens.create({ id: 'a', name: 'first', secretHash: '11', createdAt: NOW });
    expect(await storage.apiTokens.revoke('a', NOW + 10)).toBe(true);
    expect(await storage.apiTokens.revoke('a', NOW + 20)).toBe(false);
    expect((await storage.apiTokens.get('a'))?.revokedAt).toBe(NOW + 10);
    expect(await storage.apiTokens.revoke('missing')).toBe(false);
  });

  it('records the last use', async () => {
    await storage.apiTokens.create({ id: 'a', name: 'first', secretHash: '11', createdAt: NOW });
    await storage.apiTokens.touch('a', NOW + 5);
    expect((await storage.apiTokens.get('a'))?.lastUsedAt).toBe(NOW + 5);
  });
});
