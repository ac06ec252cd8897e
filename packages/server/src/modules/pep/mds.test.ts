import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { displayedElement, readDisplayed } from './mds.js';
import { NS_MDS } from './ns.js';

describe('readDisplayed', () => {
  it('reads what displayedElement builds', () => {
    const position = { stanzaId: '01abc', by: 'alice@example.test' };
    expect(readDisplayed(displayedElement(position))).toEqual(position);
  });

  it('rejects another payload', () => {
    expect(readDisplayed(x('displayed', 'urn:example:other', {}, x('stanza-id', NS.STANZA_ID, { id: '1', by: 'a@b' })))).toBeUndefined();
  });

  it('rejects a stanza-id without by', () => {
    expect(readDisplayed(x('displayed', NS_MDS, {}, x('stanza-id', NS.STANZA_ID, { id: '1' })))).toBeUndefined();
  });

  it('rejects a payload without stanza-id', () => {
    expect(readDisplayed(x('displayed', NS_MDS))).toBeUndefined();
  });
});
