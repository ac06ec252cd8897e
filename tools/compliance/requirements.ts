/**
 * The server requirements of XEP-0479 (XMPP Compliance Suites 2023, version 0.1.0 of
 * 2023-05-04) in the Core, Web, IM and Mobile categories, and what proves each one on a
 * running Parley server. The A/V Calling category is left out.
 */

export type Category = 'Core' | 'Web' | 'IM' | 'Mobile';
export type Level = 'Server' | 'Advanced Server';

/** The entities whose disco#info the generator queries. */
export type Entity = 'host' | 'account' | 'muc' | 'room' | 'directory' | 'upload';

/**
 * When stream features are read: on plain TCP before STARTTLS, after STARTTLS before
 * authentication, inside the XEP-0388 `<authentication/>` feature, after RFC 6120
 * authentication, and on a server-to-server stream before and after STARTTLS.
 */
export type Stage = 'pre-tls' | 'pre-auth' | 'sasl2-inline' | 'post-auth' | 's2s-pre-tls' | 's2s-post-tls';

/** Connection attempts the generator makes besides disco and stream features. */
export type ProbeName = 'tls-version' | 'direct-tls' | 'websocket' | 'bosh' | 'component';

export type Evidence =
  | { kind: 'feature'; entity: Entity; feature: string }
  | { kind: 'identity'; entity: Entity; category: string; type: string }
  | { kind: 'stream'; stage: Stage; name: string; ns: string }
  | { kind: 'probe'; probe: ProbeName }
  /** A test file of this repository that covers what disco cannot show. */
  | { kind: 'test'; file: string; covers: string }
  /** A part of the requirement that Parley does not build; it always counts as failed. */
  | { kind: 'gap'; text: string };

export interface Requirement {
  category: Category;
  /** The feature name of the XEP-0479 table. */
  feature: string;
  specs: string[];
  levels: Level[];
  /** The part of an XEP-0479 footnote that applies to a server. */
  note?: string;
  evidence: Evidence[];
}

const BOTH: Level[] = ['Server', 'Advanced Server'];
const ADVANCED: Level[] = ['Advanced Server'];

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const COMPONENT_NOTE = 'may be provided by a server module or an external component';

function feature(entity: Entity, name: string): Evidence {
  return { kind: 'feature', entity, feature: name };
}

function stream(stage: Stage, name: string, ns: string): Evidence {
  return { kind: 'stream', stage, name, ns };
}

function test(file: string, covers: string): Evidence {
  return { kind: 'test', file, covers };
}

function probe(name: ProbeName): Evidence {
  return { kind: 'probe', probe: name };
}

const CORE: Requirement[] = [
  {
    category: 'Core',
    feature: 'Core features',
    specs: ['RFC 6120'],
    levels: BOTH,
    evidence: [
      stream('pre-tls', 'starttls', 'urn:ietf:params:xml:ns:xmpp-tls'),
      stream('pre-auth', 'mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl'),
      stream('post-auth', 'bind', 'urn:ietf:params:xml:ns:xmpp-bind'),
      test('test/stream.test.ts', 'stream negotiation, stream errors and stanza routing'),
      stream('s2s-pre-tls', 'starttls', 'urn:ietf:params:xml:ns:xmpp-tls'),
      stream('s2s-post-tls', 'dialback', 'urn:xmpp:features:dialback'),
      test('test/s2s-federation.test.ts', 'two servers federate over dialback and direct TLS: subscriptions, presence, messages, archives, offline storage, iq'),
      test('test/s2s-external.test.ts', 'SASL EXTERNAL between servers that trust each other\'s certificates'),
      test('test/s2s-security.test.ts', 'server stream errors: invalid-from, host-unknown, improper-addressing, not-authorized, invalid-namespace, wrong dialback keys'),
      test('test/s2s-failures.test.ts', 'unreachable and silent servers, queue limits, idle close and reconnect'),
    ],
  },
  {
    category: 'Core',
    feature: 'TLS',
    specs: ['RFC 7590'],
    levels: BOTH,
    evidence: [stream('pre-tls', 'starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), probe('tls-version'), test('test/tls.test.ts', 'STARTTLS, direct TLS and ALPN')],
  },
  {
    category: 'Core',
    feature: 'Direct TLS',
    specs: ['XEP-0368'],
    levels: ADVANCED,
    note: 'a server must accept direct TLS connections',
    evidence: [probe('direct-tls')],
  },
  {
    category: 'Core',
    feature: 'Feature discovery',
    specs: ['XEP-0030'],
    levels: BOTH,
    evidence: [
      feature('host', 'http://jabber.org/protocol/disco#info'),
      feature('host', 'http://jabber.org/protocol/disco#items'),
      feature('account', 'http://jabber.org/protocol/disco#info'),
    ],
  },
  {
    category: 'Core',
    feature: 'Feature broadcasts',
    specs: ['XEP-0115'],
    levels: ADVANCED,
    evidence: [
      feature('host', 'http://jabber.org/protocol/caps'),
      stream('post-auth', 'c', 'http://jabber.org/protocol/caps'),
      test('test/disco.test.ts', "the server's caps after authentication and its ver hash"),
    ],
  },
  {
    category: 'Core',
    feature: 'Server extensibility',
    specs: ['XEP-0114'],
    levels: BOTH,
    evidence: [probe('component'), test('test/component.test.ts', 'component handshake and routing')],
  },
  {
    category: 'Core',
    feature: 'Event publishing',
    specs: ['XEP-0163'],
    levels: ADVANCED,
    note: 'full XEP-0060 on account JIDs is desirable but not required',
    evidence: [
      { kind: 'identity', entity: 'account', category: 'pubsub', type: 'pep' },
      feature('account', `${PUBSUB}#publish`),
      feature('account', `${PUBSUB}#auto-create`),
      feature('account', `${PUBSUB}#filtered-notifications`),
      test('test/pep.test.ts', 'publishing, notifications by caps and access models'),
    ],
  },
];

const WEB: Requirement[] = [
  {
    category: 'Web',
    feature: 'Web connection mechanisms',
    specs: ['RFC 7395', 'XEP-0206', 'XEP-0124'],
    levels: BOTH,
    note: COMPONENT_NOTE,
    evidence: [probe('websocket'), probe('bosh'), test('test/websocket.test.ts', 'XMPP over WebSocket'), test('test/bosh.test.ts', 'BOSH sessions')],
  },
];

const IM: Requirement[] = [
  {
    category: 'IM',
    feature: 'Core features',
    specs: ['RFC 6121'],
    levels: BOTH,
    evidence: [
      stream('post-auth', 'ver', 'urn:xmpp:features:rosterver'),
      stream('post-auth', 'sub', 'urn:xmpp:features:pre-approval'),
      test('test/roster.test.ts', 'roster management and versioning'),
      test('test/subscriptions.test.ts', 'subscription states and pre-approval'),
      test('test/presence.test.ts', 'presence broadcast and directed presence'),
    ],
  },
  {
    category: 'IM',
    feature: 'User avatar compatibility',
    specs: ['XEP-0398', 'XEP-0153'],
    levels: ADVANCED,
    evidence: [
      feature('account', 'urn:xmpp:pep-vcard-conversion:0'),
      test('test/profile-sync.test.ts', 'PEP avatar to vCard PHOTO and back, with the presence hash'),
    ],
  },
  {
    category: 'IM',
    feature: 'vcard-temp',
    specs: ['XEP-0054'],
    levels: BOTH,
    evidence: [feature('host', 'vcard-temp'), feature('account', 'vcard-temp'), test('test/vcard.test.ts', 'vCard storage and retrieval')],
  },
  {
    category: 'IM',
    feature: 'Outbound message synchronization',
    specs: ['XEP-0280'],
    levels: BOTH,
    evidence: [feature('host', 'urn:xmpp:carbons:2'), test('test/carbons.test.ts', 'received and sent carbons')],
  },
  {
    category: 'IM',
    feature: 'User blocking',
    specs: ['XEP-0191'],
    levels: ADVANCED,
    evidence: [feature('host', 'urn:xmpp:blocking'), test('test/blocking.test.ts', 'block lists and blocked stanzas')],
  },
  {
    category: 'IM',
    feature: 'Group chat',
    specs: ['XEP-0045', 'XEP-0249'],
    levels: BOTH,
    note: COMPONENT_NOTE,
    evidence: [
      { kind: 'identity', entity: 'muc', category: 'conference', type: 'text' },
      feature('muc', 'http://jabber.org/protocol/muc'),
      test('test/muc-traffic.test.ts', 'direct invitations (XEP-0249) between users'),
    ],
  },
  {
    category: 'IM',
    feature: 'Advanced group chat',
    specs: ['XEP-0048', 'XEP-0313', 'XEP-0402', 'XEP-0410'],
    levels: ADVANCED,
    note: 'XEP-0313 here means history from the room archive; XEP-0402 with the #compat feature',
    evidence: [
      feature('account', 'jabber:iq:private'),
      test('test/bookmarks.test.ts', 'XEP-0048 bookmarks in private storage kept in step with XEP-0402'),
      feature('room', 'urn:xmpp:mam:2'),
      feature('account', 'urn:xmpp:bookmarks:1#compat'),
      feature('room', 'http://jabber.org/protocol/muc#self-ping-optimization'),
    ],
  },
  {
    category: 'IM',
    feature: 'Persistent storage of private data via PubSub',
    specs: ['XEP-0223'],
    levels: ADVANCED,
    note: COMPONENT_NOTE,
    evidence: [
      feature('account', `${PUBSUB}#publish-options`),
      feature('account', `${PUBSUB}#access-whitelist`),
      feature('account', `${PUBSUB}#persistent-items`),
      test('test/pep.test.ts', 'publish-options preconditions and the whitelist model'),
    ],
  },
  {
    category: 'IM',
    feature: 'Private XML storage',
    specs: ['XEP-0049'],
    levels: ADVANCED,
    evidence: [feature('account', 'jabber:iq:private'), test('test/private.test.ts', 'storing and reading private XML')],
  },
  {
    category: 'IM',
    feature: 'Stream management',
    specs: ['XEP-0198'],
    levels: ADVANCED,
    evidence: [stream('post-auth', 'sm', 'urn:xmpp:sm:3'), test('test/stream-management.test.ts', 'acknowledgements and resumption')],
  },
  {
    category: 'IM',
    feature: 'History storage / retrieval',
    specs: ['XEP-0313'],
    levels: ADVANCED,
    evidence: [feature('account', 'urn:xmpp:mam:2'), test('test/mam.test.ts', 'archive queries and paging')],
  },
  {
    category: 'IM',
    feature: 'File upload',
    specs: ['XEP-0363'],
    levels: BOTH,
    note: COMPONENT_NOTE,
    evidence: [{ kind: 'identity', entity: 'upload', category: 'store', type: 'file' }, feature('upload', 'urn:xmpp:http:upload:0')],
  },
];

const MOBILE: Requirement[] = [
  {
    category: 'Mobile',
    feature: 'Stream management',
    specs: ['XEP-0198'],
    levels: BOTH,
    evidence: [stream('post-auth', 'sm', 'urn:xmpp:sm:3'), test('test/stream-management.test.ts', 'acknowledgements and resumption')],
  },
  {
    category: 'Mobile',
    feature: 'Client state indication',
    specs: ['XEP-0352'],
    levels: BOTH,
    evidence: [stream('post-auth', 'csi', 'urn:xmpp:csi:0'), test('test/csi.test.ts', 'held and flushed stanzas')],
  },
  {
    category: 'Mobile',
    feature: 'Third party push notifications',
    specs: ['XEP-0357'],
    levels: ADVANCED,
    note: COMPONENT_NOTE,
    evidence: [feature('account', 'urn:xmpp:push:0'), test('test/push.test.ts', 'enabling push and notifications to app servers')],
  },
];

export const CATEGORIES: Category[] = ['Core', 'Web', 'IM', 'Mobile'];
export const LEVELS: Level[] = ['Server', 'Advanced Server'];
export const REQUIREMENTS: Requirement[] = [...CORE, ...WEB, ...IM, ...MOBILE];
