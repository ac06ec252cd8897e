import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig, validateConfig } from './config.js';

const EXAMPLE = path.resolve(__dirname, '../../../parley.example.toml');

describe('config', () => {
  it('example file equals the defaults', () => {
    const fromFile = loadConfig({ file: EXAMPLE, env: {} });
    const defaults = loadConfig({ env: {} });
    expect(fromFile).toEqual(defaults);
  });

  it('defaults serve localhost on the standard ports', () => {
    const config = loadConfig({ env: {} });
    expect(config.domain).toBe('localhost');
    expect(config.listen.c2s_port).toBe(5222);
    expect(config.listen.http_port).toBe(5280);
    expect(config.storage.path).toBe(path.join('data', 'parley.sqlite'));
    expect(config.registration.policy).toBe('open');
  });

  it('environment overrides file values', () => {
    const config = loadConfig({
      file: EXAMPLE,
      env: { PARLEY_DOMAIN: 'Chat.Example.Com', PARLEY_LISTEN_C2S_PORT: '15222', PARLEY_LISTEN_HTTPS_PORT: 'false', PARLEY_TLS_REQUIRE_FOR_AUTH: 'false' },
    });
    expect(config.domain).toBe('chat.example.com');
    expect(config.listen.c2s_port).toBe(15222);
    expect(config.listen.https_port).toBe(false);
    expect(config.tls.require_for_auth).toBe(false);
  });

  it('postgres driver requires a url', () => {
    expect(() => validateConfig({ storage: { driver: 'postgres' } })).toThrow(/storage\.url must name the PostgreSQL database/);
  });

  it('postgres password comes from the environment', () => {
    const config = loadConfig({ env: { PARLEY_STORAGE_DRIVER: 'postgres', PARLEY_STORAGE_URL: 'postgres://parley@db.example:5432/parley', PARLEY_STORAGE_PASSWORD: 'pw' } });
    expect(config.storage).toMatchObject({ driver: 'postgres', url: 'postgres://parley@db.example:5432/parley', password: 'pw', pool_size: 10 });
  });

  it('invalid port names the key and the range', () => {
    expect(() => validateConfig({ listen: { c2s_port: 70000 } })).toThrow(ConfigError);
    expect(() => validateConfig({ listen: { c2s_port: 70000 } })).toThrow(/listen\.c2s_port = 70000 .*0 to 65535/);
  });

  it('invalid enum names the allowed values', () => {
    expect(() => validateConfig({ registration: { policy: 'sometimes' } })).toThrow(/registration\.policy = "sometimes" .*"open", "invite", "closed"/);
  });

  it('unknown key is rejected', () => {
    expect(() => validateConfig({ listen: { c2s_prot: 1 } })).toThrow(/unknown key listen\.c2s_prot/);
  });

  it('misspelt environment variable of a section is rejected', () => {
    expect(() => loadConfig({ env: { PARLEY_LISTEN_C2S_PROT: '15222' } })).toThrow(/unknown environment variable PARLEY_LISTEN_C2S_PROT: the \[listen\] section has no key c2s_prot/);
  });

  it('other PARLEY_ variables are left alone', () => {
    expect(loadConfig({ env: { PARLEY_TEST_LOG: 'debug', PARLEY_CI_SKIP_INSTALL: '1' } }).domain).toBe('localhost');
  });

  it('an integer range reads as an integer', () => {
    expect(() => validateConfig({ muc: { history_max: -1 } })).toThrow(/is not allowed: an integer from 0 to 10000/);
  });

  it('environment value of the wrong type is rejected', () => {
    expect(() => loadConfig({ env: { PARLEY_AUTH_SCRAM_ITERATIONS: 'many' } })).toThrow(/auth\.scram_iterations = "many"/);
    expect(() => loadConfig({ env: { PARLEY_AUTH_SCRAM_ITERATIONS: 'many' } })).toThrow(/environment variable PARLEY_AUTH_SCRAM_ITERATIONS/);
  });

  it('cert without key is rejected', () => {
    expect(() => validateConfig({ tls: { cert: '/x.pem' } })).toThrow(/tls\.cert and tls\.key/);
  });
});
