import { describe, expect, it } from 'vitest';
import { JID } from '@parley/xmpp';
import { BlockList, itemMatches } from './match.js';

const j = (text: string) => JID.parse(text);

function listOf(...items: string[]): BlockList {
  return new BlockList(items.map(j));
}

describe('itemMatches', () => {
  it('full item matches itself', () => {
    expect(itemMatches(j('bob@example.test/phone'), j('bob@example.test/phone'))).toBe(true);
  });

  it('full item skips other resources', () => {
    expect(itemMatches(j('bob@example.test/phone'), j('bob@example.test/laptop'))).toBe(false);
  });

  it('full item skips the bare JID', () => {
    expect(itemMatches(j('bob@example.test/phone'), j('bob@example.test'))).toBe(false);
  });

  it('bare item matches any resource', () => {
    expect(itemMatches(j('bob@example.test'), j('bob@example.test/laptop'))).toBe(true);
  });

  it('bare item skips other users', () => {
    expect(itemMatches(j('bob@example.test'), j('carol@example.test'))).toBe(false);
  });

  it('domain/resource item matches itself', () => {
    expect(itemMatches(j('example.test/bot'), j('example.test/bot'))).toBe(true);
  });

  it('domain/resource item skips users', () => {
    expect(itemMatches(j('example.test/bot'), j('bob@example.test/bot'))).toBe(false);
  });

  it('domain item matches users', () => {
    expect(itemMatches(j('evil.test'), j('mallory@evil.test/x'))).toBe(true);
  });

  it('domain item matches subdomains', () => {
    expect(itemMatches(j('evil.test'), j('room@muc.evil.test'))).toBe(true);
  });

  it('domain item skips lookalike domains', () => {
    expect(itemMatches(j('evil.test'), j('notevil.test'))).toBe(false);
  });
});

describe('BlockList', () => {
  it('empty list blocks nothing', () => {
    expect(listOf().blocks(j('bob@example.test'))).toBe(false);
  });

  it('blocks a resource of a bare item', () => {
    expect(listOf('bob@example.test').blocks(j('bob@example.test/phone'))).toBe(true);
  });

  it('blocks a full item', () => {
    expect(listOf('bob@example.test/phone').blocks(j('bob@example.test/phone'))).toBe(true);
  });

  it('full item leaves other resources', () => {
    expect(listOf('bob@example.test/phone').blocks(j('bob@example.test/laptop'))).toBe(false);
  });

  it('domain/resource item leaves users', () => {
    expect(listOf('example.test/bot').blocks(j('bob@example.test/bot'))).toBe(false);
  });

  it('blocks a subdomain of a domain item', () => {
    expect(listOf('evil.test').blocks(j('a@b.muc.evil.test/c'))).toBe(true);
  });

  it('leaves lookalike domains', () => {
    expect(listOf('evil.test').blocks(j('a@notevil.test'))).toBe(false);
  });

  it('agrees with itemMatches', () => {
    const items = ['bob@example.test/phone', 'carol@example.test', 'example.test/bot', 'evil.test'];
    const addresses = ['bob@example.test', 'bob@example.test/phone', 'carol@example.test/x', 'example.test', 'example.test/bot', 'x@muc.evil.test'];
    const list = listOf(...items);
    const expected = addresses.map((address) => items.some((item) => itemMatches(j(item), j(address))));
    expect(addresses.map((address) => list.blocks(j(address)))).toEqual(expected);
  });

  it('fromStored skips invalid entries', () => {
    expect(BlockList.fromStored(['bob@example.test', 'a@b@c']).items.map(String)).toEqual(['bob@example.test']);
  });
});
