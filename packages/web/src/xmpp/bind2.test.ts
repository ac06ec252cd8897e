import { describe, expect, it } from 'vitest';
import { bind2Feature, bind2Request, parseBound } from './bind2.js';
import { x } from './element.js';
import { NS } from './ns.js';
import { browserName, userAgentElement } from './user-agent.js';

function feature(...inline: string[]) {
  return x('bind', NS.BIND2, {}, x('inline', NS.BIND2, {}, ...inline.map((name) => x('feature', NS.BIND2, { var: name }))));
}

describe('Bind 2 request', () => {
  it('enables what the server lists as inline', () => {
    const request = bind2Request(feature(NS.SM, NS.CARBONS, NS.CSI), 'web');
    expect(request.getChildText('tag', NS.BIND2)).toBe('web');
    expect(request.getChild('enable', NS.SM)?.attr('resume')).toBe('true');
    expect(request.getChild('enable', NS.CARBONS)).toBeDefined();
    expect(request.getChild('active', NS.CSI)).toBeDefined();
  });

  it('asks for nothing the server does not list', () => {
    const request = bind2Request(feature(NS.SM), 'web');
    expect(request.elements().map((child) => `${child.ns} ${child.name}`)).toEqual([`${NS.BIND2} tag`, `${NS.SM} enable`]);
  });

  it('finds the feature inside the SASL2 inline list', () => {
    const authentication = x('authentication', NS.SASL2, {}, x('inline', NS.SASL2, {}, feature(NS.SM)));
    expect(bind2Feature(authentication)?.name).toBe('bind');
    expect(bind2Feature(x('authentication', NS.SASL2))).toBeUndefined();
  });
});

describe('Bind 2 result', () => {
  it('reads the stream management resumption id', () => {
    const success = x('success', NS.SASL2, {}, x('bound', NS.BIND2, {}, x('enabled', NS.SM, { id: 'abc', resume: 'true' })));
    expect(parseBound(success)).toEqual({ sm: { resumeId: 'abc' } });
  });

  it('keeps stream management without resumption', () => {
    const success = x('success', NS.SASL2, {}, x('bound', NS.BIND2, {}, x('enabled', NS.SM, { id: 'abc' })));
    expect(parseBound(success)).toEqual({ sm: { resumeId: undefined } });
  });

  it('tells a bound session without stream management from no binding', () => {
    expect(parseBound(x('success', NS.SASL2, {}, x('bound', NS.BIND2)))).toEqual({});
    expect(parseBound(x('success', NS.SASL2))).toBeUndefined();
  });
});

describe('user agent', () => {
  it('carries the id, the software and the device', () => {
    const element = userAgentElement({ id: 'b3c1', software: 'Parley Web', device: 'Firefox' });
    expect(element.toString()).toBe(`<user-agent xmlns="${NS.SASL2}" id="b3c1"><software>Parley Web</software><device>Firefox</device></user-agent>`);
  });

  it('names a browser even without navigator', () => {
    expect(browserName().length).toBeGreaterThan(0);
  });
});
