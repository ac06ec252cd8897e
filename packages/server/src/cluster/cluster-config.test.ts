import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../config.js';
import { nodeIdOf } from './cluster.js';

describe('[cluster] configuration', () => {
  it('is off by default', () => {
    expect(validateConfig({}).cluster.enabled).toBe(false);
  });

  it('rejects an expiry shorter than two heartbeats', () => {
    expect(() => validateConfig({ cluster: { heartbeat_ms: 1000, expiry_ms: 1500 } })).toThrow(ConfigError);
  });

  it('names a node by host name and c2s port unless node_id is set', () => {
    expect(nodeIdOf(validateConfig({ listen: { c2s_port: 5333 } }))).toBe(`${hostname()}:5333`);
    expect(nodeIdOf(validateConfig({ cluster: { node_id: 'east-1' } }))).toBe('east-1');
  });

  it('names a node by process id when the port is chosen at start', () => {
    expect(nodeIdOf(validateConfig({ listen: { c2s_port: 0 } }))).toBe(`${hostname()}:pid${process.pid}`);
  });
});
