import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JID, NS, StanzaError, x } from '@parley/xmpp';
import { openStorage } from '../../storage/index.js';
import { PrefsStore, buildPrefs, parsePrefs, prefsAllow } from './prefs.js';

const BOB = JID.parse('bob@example.test/phone');
const yes = () => Promise.resolve(true);
const no = () => Promise.resolve(false);

function prefsElement(mode: string, always: string[] = [], never: string[] = []) {
  const list = (name: string, jids: string[]) => x(name, NS.MAM, {}, ...jids.map((jid) => x('jid', NS.MAM, {}, jid)));
  return x('prefs', NS.MAM, { default: mode }, list('always', always), list('never', never));
}

describe('parsePrefs', () => {
  it('reads default and lists', () => {
    expect(parsePrefs(prefsElement('roster', ['bob@example.test'], ['carol@example.test']))).toEqual({
      default: 'roster',
      always: ['bob@example.test'],
      never: ['carol@example.test'],
    });
  });

  it('rejects an unknown default', () => {
    expect(() => parsePrefs(prefsElement('sometimes'))).toThrow(StanzaError);
  });

  it('rejects a bad JID', () => {
    expect(() => parsePrefs(prefsElement('always', ['@@']))).toThrow(StanzaError);
  });

  it('builds both lists when empty', () => {
    const built = buildPrefs({ default: 'always', always: [], never: [] });
    expect(built.elements().map((el) => el.name)).toEqual(['always', 'never']);
  });
});

describe('prefsAllow', () => {
  it('archives by default always', async () => {
    expect(await prefsAllow({ default: 'always', always: [], never: [] }, BOB, no)).toBe(true);
  });

  it('skips by default never', async () => {
    expect(await prefsAllow({ default: 'never', always: [], never: [] }, BOB, yes)).toBe(false);
  });

  it('asks the roster by default roster', async () => {
    expect(await prefsAllow({ default: 'roster', always: [], never: [] }, BOB, no)).toBe(false);
  });

  it('matches a bare JID on any resource', async () => {
    expect(await prefsAllow({ default: 'always', always: [], never: ['bob@example.test'] }, BOB, yes)).toBe(false);
  });

  it('matches a full JID only on that resource', async () => {
    expect(await prefsAllow({ default: 'always', always: [], never: ['bob@example.test/laptop'] }, BOB, yes)).toBe(true);
  });

  it('prefers always over the default', async () => {
    expect(await prefsAllow({ default: 'never', always: ['bob@example.test'], never: [] }, BOB, no)).toBe(true);
  });

  it('prefers never over always', async () => {
    expect(await prefsAllow({ default: 'always', always: ['bob@example.test'], never: ['bob@example.test'] }, BOB, yes)).toBe(false);
  });
});

describe('PrefsStore', () => {
  it('returns new preferences after a cached read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-prefs-'));
    const storage = await openStorage({ driver: 'sqlite', path: join(dir, 'parley.db') });
    try {
      await storage.accounts.create('example.test', 'alice', []);
      const store = new PrefsStore(storage.archive);
      const alice = JID.parse('alice@example.test');
      await store.get(alice);
      await store.set(alice, { default: 'never', always: [], never: [] });
      expect((await store.get(alice)).default).toBe('never');
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
