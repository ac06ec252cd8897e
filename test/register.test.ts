import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { type ClientTransport, TestClient, login, openClientStream } from './support/client.js';
import type { RawConnection } from './support/raw.js';

const PASSWORD = 'secret-pw';

function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function legacyFields(username: string, password: string, key?: string): Element {
  return x(
    'query',
    NS.REGISTER,
    {},
    x('username', NS.REGISTER, {}, username),
    x('password', NS.REGISTER, {}, password),
    key === undefined ? undefined : x('key', NS.REGISTER, {}, key),
  );
}

function formField(name: string, value: string, type?: string): Element {
  return x('field', NS.DATA_FORMS, { var: name, type }, x('value', NS.DATA_FORMS, {}, value));
}

function submittedForm(fields: Record<string, string>, formType = 'jabber:iq:register'): Element {
  const form = x('x', NS.DATA_FORMS, { type: 'submit' }, formField('FORM_TYPE', formType, 'hidden'));
  for (const [name, value] of Object.entries(fields)) form.append(formField(name, value));
  return x('query', NS.REGISTER, {}, form);
}

function formFieldNames(query: Element | undefined): string[] {
  const form = query?.getChild('x', NS.DATA_FORMS);
  return form?.getChildren('field', NS.DATA_FORMS).map((field) => field.attr('var') ?? '') ?? [];
}

let nextId = 1;

/** Sends an IQ on a connection that has not authenticated and waits for the reply with its id. */
function sendIq(connection: RawConnection, type: 'get' | 'set', payload: Element, to?: string): Promise<Element> {
  const id = `reg-${nextId++}`;
  const reply = connection.next((el) => el.name === 'iq' && el.attr('id') === id, 5000);
  connection.send(x('iq', NS.CLIENT, { type, id, to }, payload));
  return reply;
}

/** Server and helpers for one policy; every connection opened is destroyed after each test. */
function useServer(overrides: Record<string, unknown>) {
  const state = { server: undefined as unknown as TestServer };
  const connections: RawConnection[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    state.server = await startTestServer(overrides);
  });

  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.destroy();
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await state.server.stop();
  });

  return {
    get server(): TestServer {
      return state.server;
    },
    /** Opens a stream up to SASL and returns the connection and its features. */
    async open(transport: ClientTransport = 'starttls'): Promise<{ connection: RawConnection; features: Element }> {
      const opened = await openClientStream(state.server, transport);
      connections.push(opened.connection);
      return opened;
    },
    /** Registers over a fresh connection and returns the reply. */
    async register(payload: Element): Promise<Element> {
      const { connection } = await this.open();
      return sendIq(connection, 'set', payload);
    },
    /** Returns true when SCRAM-SHA-256 login with these credentials succeeds. */
    async canLogin(username: string, password: string): Promise<boolean> {
      const { connection } = await this.open();
      return (await login(connection, 'SCRAM-SHA-256', username, password)).name === 'success';
    },
    async connect(username: string, password: string): Promise<TestClient> {
      const client = await TestClient.connect(state.server, { username, password });
      clients.push(client);
      return client;
    },
  };
}

describe('registration, open policy', () => {
  const env = useServer({ registration: { policy: 'open', max_per_ip_per_hour: 1000 } });

  it('advertises the stream feature', async () => {
    const { features } = await env.open();
    expect(features.getChild('register', NS.REGISTER_FEATURE)).toBeDefined();
  });

  it('get returns the plain fields', async () => {
    const { connection } = await env.open();
    const query = (await sendIq(connection, 'get', x('query', NS.REGISTER))).getChild('query', NS.REGISTER);
    expect(query?.getChild('username', NS.REGISTER)).toBeDefined();
    expect(query?.getChild('password', NS.REGISTER)).toBeDefined();
  });

  it('get returns the data form', async () => {
    const { connection } = await env.open();
    const query = (await sendIq(connection, 'get', x('query', NS.REGISTER))).getChild('query', NS.REGISTER);
    expect(formFieldNames(query)).toEqual(['FORM_TYPE', 'username', 'password']);
  });

  it('get addressed to the domain works too', async () => {
    const { connection } = await env.open();
    const reply = await sendIq(connection, 'get', x('query', NS.REGISTER), env.server.domain);
    expect(reply.attr('type')).toBe('result');
  });

  it('plain fields create an account', async () => {
    expect((await env.register(legacyFields('romeo', PASSWORD))).attr('type')).toBe('result');
  });

  it('new account logs in with SCRAM', async () => {
    await env.register(legacyFields('juliet', PASSWORD));
    expect(await env.canLogin('juliet', PASSWORD)).toBe(true);
  });

  it('data form creates an account', async () => {
    const reply = await env.register(submittedForm({ username: 'mercutio', password: PASSWORD }));
    expect(reply.attr('type')).toBe('result');
    expect(await env.canLogin('mercutio', PASSWORD)).toBe(true);
  });

  it('username is case-mapped', async () => {
    await env.register(legacyFields('Tybalt', PASSWORD));
    expect(await env.canLogin('tybalt', PASSWORD)).toBe(true);
  });

  it('duplicate username is conflict', async () => {
    await env.register(legacyFields('benvolio', PASSWORD));
    expect(errorCondition(await env.register(legacyFields('benvolio', 'other-pw')))).toBe('conflict');
  });

  it('conflict keeps the first password', async () => {
    await env.register(legacyFields('paris', PASSWORD));
    await env.register(legacyFields('paris', 'other-pw'));
    expect(await env.canLogin('paris', PASSWORD)).toBe(true);
  });

  it('invalid username is jid-malformed', async () => {
    expect(errorCondition(await env.register(legacyFields('bad<name', PASSWORD)))).toBe('jid-malformed');
  });

  it('short password is not-acceptable', async () => {
    expect(errorCondition(await env.register(legacyFields('nurse', 'abc')))).toBe('not-acceptable');
  });

  it('empty password is not-acceptable', async () => {
    expect(errorCondition(await env.register(legacyFields('friar', '')))).toBe('not-acceptable');
  });

  it('missing username is not-acceptable', async () => {
    const reply = await env.register(x('query', NS.REGISTER, {}, x('password', NS.REGISTER, {}, PASSWORD)));
    expect(errorCondition(reply)).toBe('not-acceptable');
  });

  it('form of another FORM_TYPE is bad-request', async () => {
    expect(errorCondition(await env.register(submittedForm({ username: 'peter', password: PASSWORD }, 'urn:example:other')))).toBe('bad-request');
  });

  it('remove before login is unexpected-request', async () => {
    expect(errorCondition(await env.register(x('query', NS.REGISTER, {}, x('remove', NS.REGISTER))))).toBe('unexpected-request');
  });

  it('second registration on one connection is not-acceptable', async () => {
    const { connection } = await env.open();
    await sendIq(connection, 'set', legacyFields('sampson', PASSWORD));
    expect(errorCondition(await sendIq(connection, 'set', legacyFields('gregory', PASSWORD)))).toBe('not-acceptable');
  });

  it('registered account logs in on the same connection', async () => {
    const { connection } = await env.open();
    await sendIq(connection, 'set', legacyFields('balthasar', PASSWORD));
    expect((await login(connection, 'SCRAM-SHA-256', 'balthasar', PASSWORD)).name).toBe('success');
  });

  describe('after login', () => {
    it('get reports registered', async () => {
      await env.register(legacyFields('abram', PASSWORD));
      const abram = await env.connect('abram', PASSWORD);
      const query = (await abram.iq(x('iq', NS.CLIENT, { type: 'get', to: env.server.domain }, x('query', NS.REGISTER)))).getChild('query', NS.REGISTER);
      expect(query?.getChild('registered', NS.REGISTER)).toBeDefined();
      expect(query?.getChildText('username', NS.REGISTER)).toBe('abram');
    });

    it('password change lets the new password log in', async () => {
      await env.register(legacyFields('capulet', PASSWORD));
      const capulet = await env.connect('capulet', PASSWORD);
      const reply = await capulet.iq(x('iq', NS.CLIENT, { type: 'set', to: env.server.domain }, legacyFields('capulet', 'new-secret')));
      expect(reply.attr('type')).toBe('result');
      expect(await env.canLogin('capulet', 'new-secret')).toBe(true);
    });

    it('password change stops the old password', async () => {
      await env.register(legacyFields('montague', PASSWORD));
      const montague = await env.connect('montague', PASSWORD);
      await montague.iq(x('iq', NS.CLIENT, { type: 'set' }, legacyFields('montague', 'new-secret')));
      expect(await env.canLogin('montague', PASSWORD)).toBe(false);
    });

    it('password change by form works', async () => {
      await env.register(legacyFields('escalus', PASSWORD));
      const escalus = await env.connect('escalus', PASSWORD);
      const form = submittedForm({ username: `escalus@${env.server.domain}`, password: 'form-secret' }, 'jabber:iq:register:changepassword');
      expect((await escalus.iq(x('iq', NS.CLIENT, { type: 'set' }, form))).attr('type')).toBe('result');
      expect(await env.canLogin('escalus', 'form-secret')).toBe(true);
    });

    it('password change for another user is forbidden', async () => {
      await env.register(legacyFields('anthony', PASSWORD));
      await env.register(legacyFields('potpan', PASSWORD));
      const anthony = await env.connect('anthony', PASSWORD);
      const reply = await anthony.iq(x('iq', NS.CLIENT, { type: 'set' }, legacyFields('potpan', 'stolen-pw')));
      expect(errorCondition(reply)).toBe('forbidden');
      expect(await env.canLogin('potpan', PASSWORD)).toBe(true);
    });

    it('password change to another bare JID is forbidden', async () => {
      await env.register(legacyFields('rosaline', PASSWORD));
      await env.register(legacyFields('valentine', PASSWORD));
      const rosaline = await env.connect('rosaline', PASSWORD);
      const reply = await rosaline.iq(x('iq', NS.CLIENT, { type: 'set', to: `valentine@${env.server.domain}` }, legacyFields('valentine', 'stolen-pw')));
      expect(errorCondition(reply)).toBe('forbidden');
    });

    it('empty new password is not-acceptable', async () => {
      await env.register(legacyFields('chorus', PASSWORD));
      const chorus = await env.connect('chorus', PASSWORD);
      const reply = await chorus.iq(x('iq', NS.CLIENT, { type: 'set' }, legacyFields('chorus', '')));
      expect(errorCondition(reply)).toBe('not-acceptable');
      expect(await env.canLogin('chorus', PASSWORD)).toBe(true);
    });

    it('short new password is not-acceptable', async () => {
      await env.register(legacyFields('page', PASSWORD));
      const page = await env.connect('page', PASSWORD);
      expect(errorCondition(await page.iq(x('iq', NS.CLIENT, { type: 'set' }, legacyFields('page', 'abc'))))).toBe('not-acceptable');
    });

    it('password change without username is bad-request', async () => {
      await env.register(legacyFields('watchman', PASSWORD));
      const watchman = await env.connect('watchman', PASSWORD);
      const reply = await watchman.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.REGISTER, {}, x('password', NS.REGISTER, {}, 'new-secret'))));
      expect(errorCondition(reply)).toBe('bad-request');
    });

    it('remove replies, then ends the session with not-authorized', async () => {
      await env.register(legacyFields('apothecary', PASSWORD));
      const apothecary = await env.connect('apothecary', PASSWORD);
      const reply = await apothecary.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.REGISTER, {}, x('remove', NS.REGISTER))));
      expect(reply.attr('type')).toBe('result');
      expect(await apothecary.streamError()).toBe('not-authorized');
    });

    it('remove ends the other sessions too', async () => {
      await env.register(legacyFields('citizen', PASSWORD));
      const first = await env.connect('citizen', PASSWORD);
      const second = await env.connect('citizen', PASSWORD);
      await first.iq(x('iq', NS.CLIENT, { type: 'set', to: env.server.domain }, x('query', NS.REGISTER, {}, x('remove', NS.REGISTER))));
      expect(await second.streamError()).toBe('not-authorized');
    });

    it('removed account can no longer log in', async () => {
      await env.register(legacyFields('musician', PASSWORD));
      const musician = await env.connect('musician', PASSWORD);
      await musician.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.REGISTER, {}, x('remove', NS.REGISTER))));
      await musician.streamError();
      expect(await env.canLogin('musician', PASSWORD)).toBe(false);
    });

    it('remove with other children is bad-request', async () => {
      await env.register(legacyFields('officer', PASSWORD));
      const officer = await env.connect('officer', PASSWORD);
      const payload = x('query', NS.REGISTER, {}, x('remove', NS.REGISTER), x('username', NS.REGISTER, {}, 'officer'));
      expect(errorCondition(await officer.iq(x('iq', NS.CLIENT, { type: 'set' }, payload)))).toBe('bad-request');
      expect(await env.canLogin('officer', PASSWORD)).toBe(true);
    });

    it('remove of another account is forbidden', async () => {
      await env.register(legacyFields('servant', PASSWORD));
      await env.register(legacyFields('guard', PASSWORD));
      const servant = await env.connect('servant', PASSWORD);
      const payload = x('query', NS.REGISTER, {}, x('remove', NS.REGISTER));
      expect(errorCondition(await servant.iq(x('iq', NS.CLIENT, { type: 'set', to: `guard@${env.server.domain}` }, payload)))).toBe('forbidden');
      expect(await env.canLogin('guard', PASSWORD)).toBe(true);
    });
  });
});

describe('registration, invite policy', () => {
  const env = useServer({ registration: { policy: 'invite', max_per_ip_per_hour: 1000 } });

  async function createInvite(token: string, maxUses = 1): Promise<void> {
    const tokenHash = createHash('sha256').update(token).digest('hex');
    await env.server.server.storage.invites.create({ host: env.server.domain, tokenHash, expiresAt: null, maxUses, createdBy: null, note: null });
  }

  it('get asks for a token', async () => {
    const { connection } = await env.open();
    const query = (await sendIq(connection, 'get', x('query', NS.REGISTER))).getChild('query', NS.REGISTER);
    expect(formFieldNames(query)).toEqual(['FORM_TYPE', 'username', 'password', 'token']);
  });

  it('get leaves out the plain fields', async () => {
    const { connection } = await env.open();
    const query = (await sendIq(connection, 'get', x('query', NS.REGISTER))).getChild('query', NS.REGISTER);
    expect(query?.getChild('username', NS.REGISTER)).toBeUndefined();
  });

  it('valid token in the form registers', async () => {
    await createInvite('token-one');
    const reply = await env.register(submittedForm({ username: 'viola', password: PASSWORD, token: 'token-one' }));
    expect(reply.attr('type')).toBe('result');
    expect(await env.canLogin('viola', PASSWORD)).toBe(true);
  });

  it('valid token in key registers', async () => {
    await createInvite('token-key');
    expect((await env.register(legacyFields('orsino', PASSWORD, 'token-key'))).attr('type')).toBe('result');
  });

  it('used token is not-authorized', async () => {
    await createInvite('token-once');
    await env.register(submittedForm({ username: 'olivia', password: PASSWORD, token: 'token-once' }));
    const reply = await env.register(submittedForm({ username: 'malvolio', password: PASSWORD, token: 'token-once' }));
    expect(errorCondition(reply)).toBe('not-authorized');
  });

  it('token with two uses works twice', async () => {
    await createInvite('token-twice', 2);
    const first = await env.register(submittedForm({ username: 'feste', password: PASSWORD, token: 'token-twice' }));
    const second = await env.register(submittedForm({ username: 'maria', password: PASSWORD, token: 'token-twice' }));
    expect(first.attr('type')).toBe('result');
    expect(second.attr('type')).toBe('result');
  });

  it('bad token is not-authorized', async () => {
    const reply = await env.register(submittedForm({ username: 'toby', password: PASSWORD, token: 'no-such-token' }));
    expect(errorCondition(reply)).toBe('not-authorized');
    expect(await env.canLogin('toby', PASSWORD)).toBe(false);
  });

  it('missing token is not-authorized', async () => {
    expect(errorCondition(await env.register(legacyFields('andrew', PASSWORD)))).toBe('not-authorized');
  });

  it('bad password keeps the invite', async () => {
    await createInvite('token-kept');
    await env.register(submittedForm({ username: 'fabian', password: 'abc', token: 'token-kept' }));
    const reply = await env.register(submittedForm({ username: 'fabian', password: PASSWORD, token: 'token-kept' }));
    expect(reply.attr('type')).toBe('result');
  });
});

describe('registration, closed policy', () => {
  const env = useServer({ registration: { policy: 'closed' } });

  it('does not advertise the stream feature', async () => {
    const { features } = await env.open();
    expect(features.getChild('register', NS.REGISTER_FEATURE)).toBeUndefined();
  });

  it('get is service-unavailable', async () => {
    const { connection } = await env.open();
    expect(errorCondition(await sendIq(connection, 'get', x('query', NS.REGISTER)))).toBe('service-unavailable');
  });

  it('set is not-allowed', async () => {
    expect(errorCondition(await env.register(legacyFields('prospero', PASSWORD)))).toBe('not-allowed');
  });

  it('set creates no account', async () => {
    await env.register(legacyFields('miranda', PASSWORD));
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'miranda')).toBe(false);
  });

  it('password change still works', async () => {
    await env.server.createAccount('ariel', PASSWORD);
    const ariel = await env.connect('ariel', PASSWORD);
    const reply = await ariel.iq(x('iq', NS.CLIENT, { type: 'set' }, legacyFields('ariel', 'new-secret')));
    expect(reply.attr('type')).toBe('result');
  });
});

describe('registration throttle', () => {
  const env = useServer({ registration: { policy: 'open', max_per_ip_per_hour: 2 } });

  it('refuses past the hourly limit with resource-constraint', async () => {
    expect((await env.register(legacyFields('lear', PASSWORD))).attr('type')).toBe('result');
    expect((await env.register(legacyFields('goneril', PASSWORD))).attr('type')).toBe('result');
    expect(errorCondition(await env.register(legacyFields('regan', PASSWORD)))).toBe('resource-constraint');
  });

  it('refused registration creates no account', async () => {
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'regan')).toBe(false);
  });
});

describe('registration without TLS', () => {
  const env = useServer({ registration: { policy: 'open' }, tls: { allow_plaintext_on_loopback: false } });

  it('does not advertise the stream feature', async () => {
    const { features } = await env.open('plain');
    expect(features.getChild('register', NS.REGISTER_FEATURE)).toBeUndefined();
  });

  it('get is not-authorized', async () => {
    const { connection } = await env.open('plain');
    expect(errorCondition(await sendIq(connection, 'get', x('query', NS.REGISTER)))).toBe('not-authorized');
  });

  it('set is not-authorized', async () => {
    const { connection } = await env.open('plain');
    expect(errorCondition(await sendIq(connection, 'set', legacyFields('hamlet', PASSWORD)))).toBe('not-authorized');
  });

  it('set works after STARTTLS', async () => {
    expect((await env.register(legacyFields('horatio', PASSWORD))).attr('type')).toBe('result');
  });
});
