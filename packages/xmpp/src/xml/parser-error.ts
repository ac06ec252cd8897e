/** Stream error conditions (RFC 6120 section 4.9.3) that the XML parser reports. */
export type XmlErrorCondition =
  | 'not-well-formed'
  | 'restricted-xml'
  | 'policy-violation'
  | 'unsupported-encoding'
  | 'invalid-namespace'
  | 'bad-namespace-prefix';

/** A parse failure, with the stream error condition to send to the peer. */
export class XmlParseError extends Error {
  condition: XmlErrorCondition;

  constructor(condition: XmlErrorCondition, message: string) {
    super(message);
    this.name = 'XmlParseError';
    this.condition = condition;
  }
}

/** Creates a 'not-well-formed' error. */
export function notWellFormed(message: string): XmlParseError {
  return new XmlParseError('not-well-formed', message);
}
