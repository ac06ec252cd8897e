import { describe, expect, it } from 'vitest';
import { x } from './element.js';
import { XmppAuthError } from './errors.js';
import { NS } from './ns.js';
import { chooseMechanism, type SaslCredentials } from './sasl.js';

function features(...mechanisms: string[]) {
  return x('features', NS.STREAM, {}, x('mechanisms', NS.SASL, {}, ...mechanisms.map((name) => x('mechanism', NS.SASL, {}, name))));
}

const credentials: SaslCredentials = { username: 'alice', password: 'secret', keys: undefined, plainAllowed: true };

describe('chooseMechanism', () => {
  it('prefers SCRAM-SHA-256, then SCRAM-SHA-1', () => {
    expect(chooseMechanism(features('PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'), credentials)).toBe('SCRAM-SHA-256');
    expect(chooseMechanism(features('PLAIN', 'SCRAM-SHA-1'), credentials)).toBe('SCRAM-SHA-1');
  });

  it('uses PLAIN only over TLS or loopback and with a password', () => {
    expect(chooseMechanism(features('PLAIN'), credentials)).toBe('PLAIN');
    expect(() => chooseMechanism(features('PLAIN'), { ...credentials, plainAllowed: false })).toThrow(XmppAuthError);
    expect(() => chooseMechanism(features('PLAIN'), { ...credentials, password: undefined })).toThrow(XmppAuthError);
  });

  it('ignores the channel-binding variants it cannot use', () => {
    expect(() => chooseMechanism(features('SCRAM-SHA-256-PLUS'), credentials)).toThrow(/no usable SASL mechanism/);
  });
});
