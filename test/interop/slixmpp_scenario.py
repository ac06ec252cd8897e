"""Interoperability scenario of Parley with slixmpp (Debian's python3-slixmpp).

Two slixmpp clients register in-band (XEP-0077), subscribe to each other, exchange
presence and messages, and test offline delivery. The script connects only to the
host and port it is given (slixmpp_common.py overrides the DNS step of slixmpp) and
uses STARTTLS without certificate verification, because the test server has a
self-signed certificate.

It prints one JSON object: {"steps": {name: true|false}, "errors": {name: text},
"mechanisms": {client: SASL mechanism}}, and exits with status 1 when a step failed.
"""

import argparse
import asyncio
import json
import logging
import sys

from slixmpp.exceptions import IqError, IqTimeout

# Keeps Python from writing a bytecode cache of the shared module into the test folder.
sys.dont_write_bytecode = True
from slixmpp_common import FixedAddressClient, Scenario, next_from

STEP_TIMEOUT_S = 10


class ScenarioClient(FixedAddressClient):
    """A slixmpp client that connects to one fixed address and records what it receives."""

    def __init__(self, jid, password, host, port, register=False):
        super().__init__(jid, password, host, port)
        self.register_plugin('xep_0030')
        self.register_plugin('xep_0077')
        self.register_plugin('xep_0203')
        self.auto_authorize = None
        self.auto_subscribe = False

        self.session_started = asyncio.Event()
        self.failure = None
        self.registered = False
        self.register_error = None
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.subscribes = asyncio.Queue()
        self.subscribeds = asyncio.Queue()

        if register:
            self['xep_0077'].force_registration = True
            # slixmpp 1.8.3 queues every IQ until the session starts, the registration
            # IQs of XEP-0077 included, so they would never be sent. Its own test suite
            # lifts that hold with this attribute, and on_session_start restores it.
            self._always_send_everything = True
            self.add_event_handler('register', self.on_register)
        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
        self.add_event_handler('connection_failed', lambda err: self.fail(f'connection failed: {err}'))
        self.add_event_handler('stream_error', lambda err: self.fail(f'stream error: {err}'))
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('presence_available', lambda p: self.presences.put_nowait(p))
        self.add_event_handler('presence_subscribe', lambda p: self.subscribes.put_nowait(p))
        self.add_event_handler('presence_subscribed', lambda p: self.subscribeds.put_nowait(p))

    def fail(self, reason):
        if self.failure is None:
            self.failure = reason
        self.session_started.set()

    async def on_register(self, _form):
        iq = self.Iq()
        iq['type'] = 'set'
        iq['register']['username'] = self.boundjid.user
        iq['register']['password'] = self.password
        try:
            await iq.send(timeout=STEP_TIMEOUT_S)
            self.registered = True
        except IqError as err:
            self.register_error = err.iq['error']['condition']
            self.fail(f'registration failed: {self.register_error}')
        except IqTimeout:
            self.fail('registration timed out')

    async def on_session_start(self, _event):
        self._always_send_everything = False
        try:
            await self.get_roster(timeout=STEP_TIMEOUT_S)
        except (IqError, IqTimeout) as err:
            self.fail(f'roster request failed: {err}')
            return
        self.send_presence()
        self.session_started.set()

    @property
    def mechanism(self):
        """The SASL mechanism of the last authentication."""
        mech = self['feature_mechanisms'].mech
        return mech.name if mech is not None else None

    def on_message(self, message):
        if message['type'] in ('chat', 'normal') and message['body']:
            self.messages.put_nowait(message)


async def start_client(client):
    client.start()
    await asyncio.wait_for(client.session_started.wait(), STEP_TIMEOUT_S)
    if client.failure is not None:
        raise RuntimeError(client.failure)


async def stop_client(client):
    client.disconnect()
    await asyncio.wait_for(client.disconnected, STEP_TIMEOUT_S)


class RegistrationScenario(Scenario):
    """The steps of this scenario, and the SASL mechanism each registering client used."""

    def __init__(self):
        super().__init__()
        self.mechanisms = {}


async def run(args):
    jid_a = f'{args.user_a}@{args.domain}'
    jid_b = f'{args.user_b}@{args.domain}'
    scenario = RegistrationScenario()
    clients = {}

    async def register(key, jid, password):
        client = ScenarioClient(f'{jid}/slixmpp', password, args.host, args.port, register=True)
        clients[key] = client
        await start_client(client)
        scenario.mechanisms[key] = client.mechanism
        if not client.registered:
            raise RuntimeError('the client logged in without registering')

    async def subscribe():
        a, b = clients['a'], clients['b']
        a.send_presence_subscription(pto=jid_b, ptype='subscribe')
        await next_from(b.subscribes, jid_a)
        b.send_presence_subscription(pto=jid_a, ptype='subscribed')
        b.send_presence_subscription(pto=jid_a, ptype='subscribe')
        await next_from(a.subscribeds, jid_b)
        await next_from(a.subscribes, jid_b)
        a.send_presence_subscription(pto=jid_b, ptype='subscribed')
        await next_from(b.subscribeds, jid_a)
        for client, contact in ((a, jid_b), (b, jid_a)):
            await client.get_roster(timeout=STEP_TIMEOUT_S)
            subscription = client.client_roster[contact]['subscription']
            if subscription != 'both':
                raise RuntimeError(f'{client.boundjid.bare} has subscription {subscription!r} to {contact}')

    async def presence_both_ways():
        a, b = clients['a'], clients['b']
        a.send_presence(pstatus='status from a')
        b.send_presence(pstatus='status from b')
        await next_from(b.presences, jid_a, lambda p: p['status'] == 'status from a')
        await next_from(a.presences, jid_b, lambda p: p['status'] == 'status from b')

    async def messages_both_ways():
        a, b = clients['a'], clients['b']
        a.send_message(mto=jid_b, mbody='hello b', mtype='chat')
        await next_from(b.messages, jid_a, lambda m: m['body'] == 'hello b')
        b.send_message(mto=jid_a, mbody='hello a', mtype='chat')
        await next_from(a.messages, jid_b, lambda m: m['body'] == 'hello a')

    async def offline_delivery():
        await stop_client(clients['b'])
        await asyncio.sleep(0.5)
        clients['a'].send_message(mto=jid_b, mbody='while you were away', mtype='chat')
        await asyncio.sleep(0.5)
        client = ScenarioClient(f'{jid_b}/slixmpp-again', args.password_b, args.host, args.port)
        clients['b'] = client
        await start_client(client)
        message = await next_from(client.messages, jid_a, lambda m: m['body'] == 'while you were away')
        if not message['delay']['stamp']:
            raise RuntimeError('the offline message has no delay stamp (XEP-0203)')

    await scenario.step('register_a', lambda: register('a', jid_a, args.password_a))
    await scenario.step('register_b', lambda: register('b', jid_b, args.password_b))
    await scenario.step('subscribe', subscribe)
    await scenario.step('presence', presence_both_ways)
    await scenario.step('messages', messages_both_ways)
    await scenario.step('offline', offline_delivery)

    for client in clients.values():
        try:
            await stop_client(client)
        except Exception:  # a client that failed may already be gone
            pass
    return scenario


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help='IP address of the server (no DNS lookup is made)')
    parser.add_argument('--port', required=True, type=int, help='c2s port with STARTTLS')
    parser.add_argument('--domain', required=True, help='XMPP domain of the server')
    parser.add_argument('--user-a', default='slix-a')
    parser.add_argument('--password-a', default='password-a')
    parser.add_argument('--user-b', default='slix-b')
    parser.add_argument('--password-b', default='password-b')
    parser.add_argument('--debug', action='store_true', help='log slixmpp debug output to stderr')
    args = parser.parse_args()

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.CRITICAL, stream=sys.stderr)
    scenario = asyncio.run(run(args))
    print(json.dumps({'steps': scenario.steps, 'errors': scenario.errors, 'mechanisms': scenario.mechanisms}))
    sys.exit(0 if all(scenario.steps.values()) else 1)


if __name__ == '__main__':
    main()
