import { describe, expect, it } from 'vitest';
import { WebhookUrlError, isPublicAddress, parseWebhookUrl } from './address-policy.js';

describe('isPublicAddress', () => {
  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111'])('accepts %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2001:db8::1',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('parseWebhookUrl', () => {
  it('accepts a public https URL', () => {
    expect(parseWebhookUrl('https://hooks.example.com/parley?x=1', false).href).toBe('https://hooks.example.com/parley?x=1');
  });

  it.each([
    ['ftp://hooks.example.com/', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['hooks.example.com/x', 'not a valid absolute URL'],
    ['https://user:pw@hooks.example.com/', 'user name or password'],
    ['http://localhost:8080/', 'not a public address'],
    ['http://api.localhost/', 'not a public address'],
    ['http://127.0.0.1:8080/', 'not a public address'],
    ['http://2130706433/', 'not a public address'],
    ['http://[::1]/', 'not a public address'],
    ['http://169.254.169.254/latest/meta-data', 'not a public address'],
    ['http://[::ffff:192.168.0.1]/', 'not a public address'],
  ])('refuses %s', (url, reason) => {
    expect(() => parseWebhookUrl(url, false)).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl(url, false)).toThrow(reason);
  });

  it('accepts loopback when private addresses are allowed', () => {
    expect(parseWebhookUrl('http://127.0.0.1:8080/hook', true).host).toBe('127.0.0.1:8080');
  });

  it('still refuses other schemes when private addresses are allowed', () => {
    expect(() => parseWebhookUrl('gopher://127.0.0.1/', true)).toThrow(WebhookUrlError);
  });

  it('refuses an overlong URL', () => {
    expect(() => parseWebhookUrl(`https://hooks.example.com/${'a'.repeat(2100)}`, false)).toThrow('longer than');
  });
});
