import { describe, expect, it } from 'vitest';
import { REDACTED, redactConfig } from './config-redact.js';

describe('redactConfig', () => {
  it('replaces secret keys at any depth and inline private keys', () => {
    const config = { components: [{ domain: 'a.example', secret: 's3cret' }], tls: { key: '-----BEGIN PRIVATE KEY-----\nabc', cert: '/etc/cert.pem' }, api: { token_ttl: 5 } };
    expect(redactConfig(config)).toEqual({ components: [{ domain: 'a.example', secret: REDACTED }], tls: { key: REDACTED, cert: '/etc/cert.pem' }, api: { token_ttl: 5 } });
  });

  it('hides the PostgreSQL password in url and key', () => {
    expect(redactConfig({ storage: { url: 'postgres://parley:pw@db.example:5432/parley', password: 'pw' } })).toEqual({
      storage: { url: `postgres://${REDACTED}@db.example:5432/parley`, password: REDACTED },
    });
  });

  it('hides user information and credential parameters of URLs and keeps the rest', () => {
    expect(redactConfig({ url: 'https://u:p@h.example:8443/a?api_key=k&x=1' })).toEqual({ url: `https://${REDACTED}@h.example:8443/a?api_key=${REDACTED}&x=1` });
    expect(redactConfig({ url: 'https://h.example/a' })).toEqual({ url: 'https://h.example/a' });
    expect(redactConfig({ path: 'data/parley.sqlite', empty: '' })).toEqual({ path: 'data/parley.sqlite', empty: '' });
  });
});
