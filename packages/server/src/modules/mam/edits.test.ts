import { describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { correctedStanza, editOf, tombstone } from './edits.js';

const original = () =>
  x('message', NS.CLIENT, { id: 'm1', type: 'chat', from: 'alice@example.test/a', to: 'bob@example.test' }, x('body', NS.CLIENT, {}, 'helo'), x('origin-id', NS.STANZA_ID, { id: 'o1' }));

const correction = () =>
  x('message', NS.CLIENT, { id: 'm2', type: 'chat' }, x('body', NS.CLIENT, {}, 'hello'), x('replace', NS.CORRECT, { id: 'm1' }), x('origin-id', NS.STANZA_ID, { id: 'o2' }));

describe('editOf', () => {
  it('reads a correction', () => {
    expect(editOf(correction())).toEqual({ kind: 'correction', ref: 'm1' });
  });

  it('reads a retraction', () => {
    expect(editOf(x('message', NS.CLIENT, {}, x('retract', NS.RETRACT, { id: 'm1' })))).toEqual({ kind: 'retraction', ref: 'm1' });
  });

  it('ignores a plain message', () => {
    expect(editOf(original())).toBeUndefined();
  });
});

describe('correctedStanza', () => {
  it('takes the new body', () => {
    expect(correctedStanza(original(), correction()).getChildText('body', NS.CLIENT)).toBe('hello');
  });

  it('keeps the original id', () => {
    expect(correctedStanza(original(), correction()).attr('id')).toBe('m1');
  });

  it('keeps the original origin-id only', () => {
    const ids = correctedStanza(original(), correction()).getChildren('origin-id', NS.STANZA_ID).map((el) => el.attr('id'));
    expect(ids).toEqual(['o1']);
  });

  it('leaves out the replace element', () => {
    expect(correctedStanza(original(), correction()).getChild('replace', NS.CORRECT)).toBeUndefined();
  });
});

describe('tombstone', () => {
  const retraction = x('message', NS.CLIENT, { id: 'r1' }, x('retract', NS.RETRACT, { id: 'm1' }));

  it('drops the body', () => {
    expect(tombstone(original(), retraction, 0).getChild('body', NS.CLIENT)).toBeUndefined();
  });

  it('names the retraction', () => {
    expect(tombstone(original(), retraction, 0).getChild('retracted', NS.RETRACT)?.attr('id')).toBe('r1');
  });

  it('stamps the retraction time', () => {
    expect(tombstone(original(), retraction, 0).getChild('retracted', NS.RETRACT)?.attr('stamp')).toBe('1970-01-01T00:00:00.000Z');
  });
});
