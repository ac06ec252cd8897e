"""Interoperability scenario of Parley's stream management, carbons and archive with slixmpp.

Three existing accounts (a, b, c) log in with Debian's python3-slixmpp 1.8.3 and use its
plugins: stream management with resumption (XEP-0198), message carbons (XEP-0280),
delivery receipts (XEP-0184), chat states (XEP-0085), and the message archive (XEP-0313
with result set management, XEP-0059, and stanza ids, XEP-0359). Every check is made from
account a's point of view. The clients connect only to the host and port they are given,
over STARTTLS (see slixmpp_common.py).

It prints one JSON object: {"steps": {name: true|false}, "errors": {name: text},
"figures": {name: number}}, and exits with status 1 when a step failed.
"""

import argparse
import asyncio
import json
import logging
import math
import sys

from slixmpp import JID
from slixmpp.plugins.xep_0198.stanza import RequestAck
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

# Keeps Python from writing a bytecode cache of the shared module into the test folder.
sys.dont_write_bytecode = True
from slixmpp_common import FixedAddressClient, Inbox, Scenario, expect_equal

#: Maximum wait for one stanza, event or IQ result, in seconds.
WAIT_S = 5
#: How long a client watches for duplicates after the expected stanzas arrived, in seconds.
QUIET_S = 1.5
PAGE_SIZE = 10
#: Messages b sends while a's connection is cut.
MESSAGES_WHILE_CUT = 5
#: Messages exchanged after the other steps, so that the archive spans several pages.
MORE_MESSAGES = 30
#: Maximum number of pages one archive query may take before the step fails.
MAX_PAGES = 20
NS_STANZA_ID = 'urn:xmpp:sid:0'
SM_MODULUS = 2 ** 32
PLUGINS = ('xep_0030', 'xep_0059', 'xep_0085', 'xep_0184', 'xep_0203', 'xep_0280', 'xep_0297', 'xep_0313', 'xep_0359')


class ArchiveClient(FixedAddressClient):
    """A slixmpp client with the plugins of this scenario that records what it receives."""

    def __init__(self, jid, password, host, port, stream_management=False):
        super().__init__(jid, password, host, port)
        for plugin in PLUGINS:
            self.register_plugin(plugin)
        if stream_management:
            self.register_plugin('xep_0198')
            self.add_event_handler('sm_enabled', self.on_sm_enabled)
            self.add_event_handler('sm_failed', lambda failed: self.fail(f'stream management failed: {failed}'))
            self.add_event_handler('session_resumed', self.on_session_resumed)
            # The plugin replies to each <r/> of the server with an <a/>, and this handler counts the requests.
            self.register_handler(Callback('Count ack requests', MatchXPath(RequestAck.tag_name()), self.on_ack_request))

        self.failure = None
        self.session_started = asyncio.Event()
        self.session_starts = 0
        self.sm_enabled = asyncio.Event()
        self.enabled = None
        self.resumed = asyncio.Event()
        self.session_resumes = 0
        self.ack_requests = 0

        self.bodies = Inbox()
        self.presences = Inbox()
        self.error_messages = Inbox()
        self.sent_carbons = Inbox()
        self.received_carbons = Inbox()
        self.receipts = Inbox()
        self.chat_states = Inbox()

        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
        self.add_event_handler('connection_failed', lambda err: self.fail(f'connection failed: {err}'))
        self.add_event_handler('stream_error', lambda err: self.fail(f'stream error: {err}'))
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('presence_available', self.presences.add)
        self.add_event_handler('carbon_sent', self.sent_carbons.add)
        self.add_event_handler('carbon_received', self.received_carbons.add)
        self.add_event_handler('receipt_received', self.receipts.add)
        self.add_event_handler('chatstate', self.chat_states.add)

    def fail(self, reason):
        if self.failure is None:
            self.failure = reason
        self.session_started.set()
        self.resumed.set()

    def on_session_start(self, _event):
        self.session_starts += 1
        self.send_presence()
        self.session_started.set()

    def on_sm_enabled(self, enabled):
        self.enabled = enabled
        self.sm_enabled.set()

    def on_ack_request(self, _request):
        self.ack_requests += 1

    def on_session_resumed(self, _resumed):
        self.session_resumes += 1
        self.resumed.set()

    def on_message(self, message):
        if message['type'] == 'error':
            self.error_messages.add(message)
        elif message['body']:
            self.bodies.add(message)


def stanza_ids(message, by):
    """Return the ids of the XEP-0359 `<stanza-id/>` elements of `message` set by `by`."""
    elements = message.xml.findall(f'{{{NS_STANZA_ID}}}stanza-id')
    return [element.get('id') for element in elements if element.get('by') == by]


def with_body(body):
    return lambda message: message['body'] == body


def sm_delta(after, before):
    """Return how far a stream management counter moved, modulo 2^32."""
    return (after - before) % SM_MODULUS


async def start_client(client):
    client.start()
    await asyncio.wait_for(client.session_started.wait(), WAIT_S)
    if client.failure is not None:
        raise RuntimeError(client.failure)


async def stop_client(client):
    client.disconnect()
    await asyncio.wait_for(client.disconnected, WAIT_S)


async def wait_until(condition, description, timeout=WAIT_S):
    """Poll `condition` every 50 ms until it is true, and raise TimeoutError after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            raise TimeoutError(f'{description} did not happen within {timeout} s')
        await asyncio.sleep(0.05)


class ArchiveScenario(Scenario):
    """The state the steps share: clients, what a's archive must hold, and figures to report."""

    def __init__(self, args):
        super().__init__()
        self.args = args
        self.jid_a = f'{args.user_a}@{args.domain}'
        self.jid_b = f'{args.user_b}@{args.domain}'
        self.jid_c = f'{args.user_c}@{args.domain}'
        self.clients = {}
        #: The messages a's archive must hold, in order: (body, the other party's bare JID).
        self.expected_archive = []
        #: Ids of the chat-state-only messages that were sent, which no archive may hold.
        self.chat_state_only_ids = []
        #: a's archive as the forward query returned it: (archive id, archived message).
        self.archive = []
        self.figures = {}

    def client(self, key, resource, password, stream_management=False):
        jid = {'a': self.jid_a, 'b': self.jid_b, 'c': self.jid_c}[key[0]]
        return ArchiveClient(f'{jid}/{resource}', password, self.args.host, self.args.port, stream_management)

    def send_body(self, sender, to, body, receipt=False, chat_state=None):
        """Send a chat message and note it when it belongs in a's archive."""
        message = sender.make_message(mto=to, mbody=body, mtype='chat')
        if receipt:
            message['request_receipt'] = True
        if chat_state is not None:
            message['chat_state'] = chat_state
        message.send()

        sender_bare, recipient_bare = sender.boundjid.bare, JID(to).bare
        if sender_bare == self.jid_a:
            self.expected_archive.append((body, recipient_bare))
        elif recipient_bare == self.jid_a:
            self.expected_archive.append((body, sender_bare))
        return message

    def send_chat_state(self, sender, to, state):
        message = sender.make_message(mto=to, mtype='chat')
        message['chat_state'] = state
        message.send()
        self.chat_state_only_ids.append(message['id'])
        return message

    async def stop_all(self):
        for client in self.clients.values():
            try:
                await stop_client(client)
            except Exception:  # a client that failed may already be gone
                pass


async def log_in(scenario):
    """Log in b and c, which take part in the conversations of a."""
    for key, password in (('b', scenario.args.password_b), ('c', scenario.args.password_c)):
        scenario.clients[key] = scenario.client(key, 'slixmpp', password)
        await start_client(scenario.clients[key])


async def sm_enable(scenario):
    """a enables stream management with resumption and gets an id to resume with."""
    client = scenario.client('a_sm', 'sm', scenario.args.password_a, stream_management=True)
    scenario.clients['a_sm'] = client
    await start_client(client)
    await asyncio.wait_for(client.sm_enabled.wait(), WAIT_S)
    if client.failure is not None:
        raise RuntimeError(client.failure)

    if not client.enabled['id']:
        raise AssertionError(f'<enabled/> has no id: {client.enabled}')
    if not client.enabled['resume']:
        raise AssertionError(f'<enabled/> does not allow resumption: {client.enabled}')
    expect_equal(client['xep_0198'].sm_id, client.enabled['id'], 'the id the plugin keeps')


async def sm_acks(scenario):
    """Both counters of the plugin move by the stanzas exchanged, and the server acks all of a's stanzas."""
    a, b = scenario.clients['a_sm'], scenario.clients['b']
    sm = a['xep_0198']
    # The server sends a's initial presence back to a, and it must arrive before counting starts.
    await a.presences.find(lambda p: p['from'] == a.boundjid, 'a: its own initial presence')
    await request_full_ack(a)
    handled_before, seq_before, requests_before = sm.handled, sm.seq, a.ack_requests

    for i in range(3):
        scenario.send_body(a, scenario.jid_b, f'sm ping {i}')
    for i in range(3):
        await b.bodies.find(with_body(f'sm ping {i}'), f'b: sm ping {i}')
    for i in range(3):
        scenario.send_body(b, a.boundjid.full, f'sm pong {i}')
    for i in range(3):
        await a.bodies.find(with_body(f'sm pong {i}'), f'a: sm pong {i}')
    await a['xep_0030'].get_info(jid=scenario.args.domain, timeout=WAIT_S)
    await request_full_ack(a)

    # Sent: 3 messages and the disco#info request. Received: 3 messages and the disco#info result.
    scenario.figures['sm_sent'] = sm_delta(sm.seq, seq_before)
    scenario.figures['sm_handled'] = sm_delta(sm.handled, handled_before)
    expect_equal(scenario.figures['sm_sent'], 4, 'stanzas counted in seq')
    expect_equal(scenario.figures['sm_handled'], 4, 'stanzas counted in handled')
    expect_equal(sm.last_ack, sm.seq, "the server's last <a h/>")
    expect_equal(len(sm.unacked_queue), 0, 'stanzas the server has not acknowledged')
    # The server sends <r/> one second after a stanza when no request is outstanding.
    await wait_until(lambda: a.ack_requests > requests_before, 'an <r/> from the server')


async def request_full_ack(client):
    sm = client['xep_0198']
    sm.request_ack()
    await wait_until(lambda: sm.last_ack == sm.seq, f'an <a h="{sm.seq}"/> from the server')


async def sm_resume(scenario):
    """a's connection is cut, b sends messages meanwhile, and a resumes and gets each once."""
    a, b = scenario.clients['a_sm'], scenario.clients['b']
    sm = a['xep_0198']
    full_jid = a.boundjid.full
    seq_before, handled_before = sm.seq, sm.handled

    # abort() closes the socket without </stream:stream>, as a lost connection would.
    lost = a.disconnected
    a.abort()
    await asyncio.wait_for(lost, WAIT_S)
    # A moment for the server to see the connection end, so that b's messages find the session hibernating.
    await asyncio.sleep(0.3)
    for i in range(MESSAGES_WHILE_CUT):
        scenario.send_body(b, scenario.jid_a, f'while cut {i}')
    # b's stanzas are handled in order, so this result comes after its messages were routed.
    await b['xep_0030'].get_info(jid=scenario.args.domain, timeout=WAIT_S)

    a.start()
    await asyncio.wait_for(a.resumed.wait(), WAIT_S)
    if a.failure is not None:
        raise RuntimeError(a.failure)
    expect_equal(a.session_resumes, 1, 'session_resumed events')
    expect_equal(a.session_starts, 1, 'session_start events')
    expect_equal(a.boundjid.full, full_jid, 'the full JID after resumption')
    expect_equal(sm.last_ack, seq_before, 'h of <resumed/>')

    for i in range(MESSAGES_WHILE_CUT):
        await a.bodies.find(with_body(f'while cut {i}'), f'a: while cut {i}')
    await asyncio.sleep(QUIET_S)
    for body in [f'while cut {i}' for i in range(MESSAGES_WHILE_CUT)] + [f'sm pong {i}' for i in range(3)]:
        expect_equal(a.bodies.count(with_body(body)), 1, f'copies of "{body}" at a')
    expect_equal(sm_delta(sm.handled, handled_before), MESSAGES_WHILE_CUT, 'stanzas handled since the cut')

    # With every stanza acknowledged, the server has nothing to store offline when the stream closes.
    sm.send_ack()
    await stop_client(a)


async def carbons_enable(scenario):
    """Two resources of a log in and enable carbons."""
    for key, resource in (('a1', 'one'), ('a2', 'two')):
        client = scenario.client(key, resource, scenario.args.password_a)
        scenario.clients[key] = client
        await start_client(client)
        await client['xep_0280'].enable(timeout=WAIT_S)


async def carbons_sent(scenario):
    """A message from a/one to b arrives at a/two as a sent carbon."""
    a1, a2, b = scenario.clients['a1'], scenario.clients['a2'], scenario.clients['b']
    scenario.send_body(a1, scenario.jid_b, 'carbon sent')
    await b.bodies.find(with_body('carbon sent'), 'b: carbon sent')
    carbon = await a2.sent_carbons.find(lambda m: m['carbon_sent']['body'] == 'carbon sent', 'a/two: sent carbon')
    copied = carbon['carbon_sent']
    expect_equal(copied['from'].full, a1.boundjid.full, 'from of the copied message')
    expect_equal(copied['to'].bare, scenario.jid_b, 'to of the copied message')
    expect_equal(a2.bodies.count(with_body('carbon sent')), 0, 'direct copies of "carbon sent" at a/two')


async def carbons_received(scenario):
    """A reply from b to a/one's full JID arrives at a/two as a received carbon."""
    a1, a2, b = scenario.clients['a1'], scenario.clients['a2'], scenario.clients['b']
    scenario.send_body(b, a1.boundjid.full, 'carbon received')
    await a1.bodies.find(with_body('carbon received'), 'a/one: carbon received')
    carbon = await a2.received_carbons.find(lambda m: m['carbon_received']['body'] == 'carbon received', 'a/two: received carbon')
    copied = carbon['carbon_received']
    expect_equal(copied['from'].bare, scenario.jid_b, 'from of the copied message')
    expect_equal(copied['to'].full, a1.boundjid.full, 'to of the copied message')
    expect_equal(a2.bodies.count(with_body('carbon received')), 0, 'direct copies of "carbon received" at a/two')


async def receipts(scenario):
    """Each side requests a delivery receipt and gets it for the id it sent."""
    a1, b = scenario.clients['a1'], scenario.clients['b']
    request = scenario.send_body(a1, scenario.jid_b, 'receipt requested by a', receipt=True)
    await b.bodies.find(with_body('receipt requested by a'), 'b: receipt requested by a')
    await a1.receipts.find(lambda m: m['receipt'] == request['id'] and m['from'].bare == scenario.jid_b, f'a/one: receipt for {request["id"]}')

    request = scenario.send_body(b, a1.boundjid.full, 'receipt requested by b', receipt=True)
    await a1.bodies.find(with_body('receipt requested by b'), 'a/one: receipt requested by b')
    await b.receipts.find(lambda m: m['receipt'] == request['id'] and m['from'].bare == scenario.jid_a, f'b: receipt for {request["id"]}')


async def chat_states(scenario):
    """Chat states arrive both alone and with a body."""
    a1, b = scenario.clients['a1'], scenario.clients['b']
    composing = scenario.send_chat_state(a1, scenario.jid_b, 'composing')
    await b.chat_states.find(lambda m: m['id'] == composing['id'] and m['chat_state'] == 'composing', 'b: composing')

    active = scenario.send_body(a1, scenario.jid_b, 'with an active state', chat_state='active')
    message = await b.bodies.find(with_body('with an active state'), 'b: with an active state')
    expect_equal(message['chat_state'], 'active', 'chat state of the message with a body')
    await b.chat_states.find(lambda m: m['id'] == active['id'], 'b: active')

    paused = scenario.send_chat_state(b, scenario.jid_a, 'paused')
    await a1.chat_states.find(lambda m: m['id'] == paused['id'] and m['chat_state'] == 'paused', 'a/one: paused')


async def more_messages(scenario):
    """a exchanges MORE_MESSAGES more messages with b and c, one at a time so the archive order is known."""
    a1 = scenario.clients['a1']
    for i in range(MORE_MESSAGES):
        peer = scenario.clients['c'] if i % 3 == 2 else scenario.clients['b']
        body = f'archive message {i:02}'
        if i % 2 == 0:
            scenario.send_body(a1, peer.boundjid.bare, body)
            await peer.bodies.find(with_body(body), f'{peer.boundjid.bare}: {body}')
        else:
            scenario.send_body(peer, scenario.jid_a, body)
            await a1.bodies.find(with_body(body), f'a/one: {body}')
    scenario.figures['archive_expected'] = len(scenario.expected_archive)


def archived_message(result):
    """Return the message a MAM result carries."""
    return result['mam_result']['forwarded']['stanza']


def peer_of(message, owner):
    """Return the bare JID of the other party of an archived message of `owner`."""
    sender = message['from'].bare
    return message['to'].bare if sender == owner else sender


async def query_pages(client, reverse=False, **options):
    """Return the result pages of an archive query in the order they came, each as (results, fin) of one IQ result."""
    iterator = client['xep_0313'].retrieve(iterator=True, reverse=reverse, rsm={'max': PAGE_SIZE}, **options)
    pages = []
    async for page in iterator:
        pages.append((list(page['mam']['results']), page['mam_fin']))
        if len(pages) >= MAX_PAGES:
            raise AssertionError(f'the query took more than {MAX_PAGES} pages')
        # slixmpp 1.8.3 stops its result set iterator once first index + page size = count.
        # Paging backwards, that holds on the first page, the one at the end of the archive,
        # so the iterator would stop after it. The iterator keeps going here until a page
        # starts at index 0 (or a page comes back empty, which also stops it).
        if reverse and page['mam_fin']['rsm']['first_index'] != '0':
            iterator._stop = False
    return pages


async def iterate_archive(client, **options):
    """Return every result of an archive query, through the plugin's message iterator."""
    results = []
    async for result in client['xep_0313'].iterate(rsm={'max': PAGE_SIZE}, **options):
        results.append(result)
        if len(results) > MAX_PAGES * PAGE_SIZE:
            raise AssertionError(f'the query returned more than {MAX_PAGES * PAGE_SIZE} results')
    return results


def expect_archive(results, expected, owner, what):
    """Check that `results` hold the messages of `expected`, (body, peer) pairs, in that order."""
    got = [(archived_message(result)['body'], peer_of(archived_message(result), owner)) for result in results]
    if got != expected:
        raise AssertionError(f'{what}: expected {len(expected)} messages {expected!r}, got {len(got)}: {got!r}')


def expect_pages(pages, message_count):
    """Check that `message_count` messages came in full pages and that the last `<fin/>` has complete='true'."""
    expect_equal(len(pages), math.ceil(message_count / PAGE_SIZE), 'pages')
    for number, (page, _fin) in enumerate(pages):
        if len(page) > PAGE_SIZE:
            raise AssertionError(f'page {number} has {len(page)} results, more than the maximum of {PAGE_SIZE}')
    expect_equal(pages[-1][1].xml.get('complete'), 'true', 'complete on the last <fin/>')


async def archive_forward(scenario):
    """a pages forward through its archive, ten at a time, and gets every message in order with its id."""
    pages = await asyncio.wait_for(query_pages(scenario.clients['a1']), WAIT_S * 4)
    results = [result for page, _fin in pages for result in page]
    expected = scenario.expected_archive
    scenario.figures['archive_pages'] = len(pages)
    scenario.figures['archive_results'] = len(results)

    expect_pages(pages, len(expected))
    expect_archive(results, expected, scenario.jid_a, 'forward query')

    ids = [result['mam_result']['id'] for result in results]
    if not all(ids):
        raise AssertionError(f'a result has no archive id: {ids!r}')
    expect_equal(len(set(ids)), len(ids), 'distinct archive ids')
    scenario.archive = [(result['mam_result']['id'], archived_message(result)) for result in results]


async def archive_reverse(scenario):
    """a pages backwards from the end of its archive, ten at a time, and gets every message."""
    pages = await asyncio.wait_for(query_pages(scenario.clients['a1'], reverse=True), WAIT_S * 4)
    newest_first = [result for page, _fin in pages for result in reversed(page)]
    expected = scenario.expected_archive
    scenario.figures['archive_reverse_pages'] = len(pages)
    scenario.figures['archive_reverse_results'] = len(newest_first)

    expect_pages(pages, len(expected))
    expect_archive(newest_first, list(reversed(expected)), scenario.jid_a, 'reverse query')
    ids = [result['mam_result']['id'] for result in reversed(newest_first)]
    expect_equal(ids, [archive_id for archive_id, _message in scenario.archive], 'archive ids of the reverse query')


async def archive_with(scenario):
    """A query with a `with` filter returns only the conversation with that contact."""
    for contact in (scenario.jid_b, scenario.jid_c):
        results = await asyncio.wait_for(iterate_archive(scenario.clients['a1'], with_jid=JID(contact)), WAIT_S * 4)
        expected = [entry for entry in scenario.expected_archive if entry[1] == contact]
        expect_archive(results, expected, scenario.jid_a, f'query with {contact}')


async def stanza_ids_match(scenario):
    """The messages a received and the sent and received carbons carry a's archive id of that message."""
    archive_ids = {message['body']: archive_id for archive_id, message in scenario.archive}
    delivered = []
    for key in ('a_sm', 'a1', 'a2'):
        client = scenario.clients.get(key)
        if client is None:
            continue
        delivered += [(key, message) for message in client.bodies.items]
        delivered += [(f'{key} sent carbon', carbon['carbon_sent']) for carbon in client.sent_carbons.items if carbon['carbon_sent']['body']]
        delivered += [(f'{key} received carbon', carbon['carbon_received']) for carbon in client.received_carbons.items if carbon['carbon_received']['body']]

    checked = 0
    for where, message in delivered:
        expected = archive_ids.get(message['body'])
        if expected is None:
            raise AssertionError(f'"{message["body"]}" ({where}) is not in the archive')
        expect_equal(stanza_ids(message, scenario.jid_a), [expected], f'<stanza-id by="{scenario.jid_a}"/> of "{message["body"]}" ({where})')
        checked += 1
    scenario.figures['stanza_ids_checked'] = checked


async def chat_states_not_archived(scenario):
    """The archive contains no chat-state-only message, and every archived message has a body."""
    for archive_id, message in scenario.archive:
        if not message['body']:
            raise AssertionError(f'archived message {archive_id} has no body: {message}')
        if message['id'] in scenario.chat_state_only_ids:
            raise AssertionError(f'the chat-state-only message {message["id"]} is archived as {archive_id}')


async def no_error_messages(scenario):
    """No client got a message of type error during the scenario."""
    for key, client in scenario.clients.items():
        if client.error_messages.items:
            raise AssertionError(f'{key} got error messages: {[str(message) for message in client.error_messages.items]}')


async def run(args):
    scenario = ArchiveScenario(args)
    sm_steps = ['log_in', 'sm_enable', 'sm_acks']
    carbon_steps = ['log_in', 'carbons_enable']
    await scenario.step('log_in', lambda: log_in(scenario))
    await scenario.step('sm_enable', lambda: sm_enable(scenario), ['log_in'])
    await scenario.step('sm_acks', lambda: sm_acks(scenario), ['sm_enable'])
    await scenario.step('sm_resume', lambda: sm_resume(scenario), sm_steps)
    await scenario.step('carbons_enable', lambda: carbons_enable(scenario), ['log_in'])
    await scenario.step('carbons_sent', lambda: carbons_sent(scenario), carbon_steps)
    await scenario.step('carbons_received', lambda: carbons_received(scenario), carbon_steps)
    await scenario.step('receipts', lambda: receipts(scenario), carbon_steps)
    await scenario.step('chat_states', lambda: chat_states(scenario), carbon_steps)
    await scenario.step('more_messages', lambda: more_messages(scenario), carbon_steps)
    await scenario.step('archive_forward', lambda: archive_forward(scenario), ['more_messages'])
    await scenario.step('archive_reverse', lambda: archive_reverse(scenario), ['archive_forward'])
    await scenario.step('archive_with', lambda: archive_with(scenario), ['archive_forward'])
    await scenario.step('stanza_ids', lambda: stanza_ids_match(scenario), ['archive_forward'])
    await scenario.step('chat_states_not_archived', lambda: chat_states_not_archived(scenario), ['archive_forward', 'chat_states'])
    await scenario.step('no_error_messages', lambda: no_error_messages(scenario), [])
    await scenario.stop_all()
    return scenario


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help='IP address of the server (no DNS lookup is made)')
    parser.add_argument('--port', required=True, type=int, help='c2s port with STARTTLS')
    parser.add_argument('--domain', required=True, help='XMPP domain of the server')
    for key in ('a', 'b', 'c'):
        parser.add_argument(f'--user-{key}', default=f'slix-{key}', help=f'username of the existing account {key}')
        parser.add_argument(f'--password-{key}', default=f'password-{key}', help=f'password of account {key}')
    parser.add_argument('--debug', action='store_true', help='log slixmpp debug output to stderr')
    args = parser.parse_args()

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.CRITICAL, stream=sys.stderr)
    scenario = asyncio.run(run(args))
    print(json.dumps({'steps': scenario.steps, 'errors': scenario.errors, 'figures': scenario.figures}))
    sys.exit(0 if all(scenario.steps.values()) else 1)


if __name__ == '__main__':
    main()
