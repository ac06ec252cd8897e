"""A slixmpp client (Debian's python3-slixmpp 1.8.3) that a test drives over its standard streams.

Tests whose main client is not Python (the Converse.js test) use it as the other party.
It logs in to an existing account, then reads commands from standard input and writes
events to standard output, one JSON object per line each (slixmpp itself may print other
lines, which are not JSON):

  commands: {"op": "send", "to": JID, "type": "chat" | "groupchat", "body": TEXT}
            {"op": "join", "room": BARE JID, "nick": NICK}
            {"op": "quit"}
  events:   {"event": "ready", "jid": FULL JID}
            {"event": "joined", "room": BARE JID, "nick": NICK, "created": true | false}
            {"event": "message", "from": JID, "type": TYPE, "body": TEXT, "stanza_id": ID | null}
            {"event": "presence", "from": JID, "type": TYPE}      (room presences only)
            {"event": "failed", "op": OP, "error": TEXT}

A room that the join creates (status 201) is made an instant room. The client connects
only to the host and port it is given, over STARTTLS (see slixmpp_common.py). It exits
after "quit", at the end of its input, or with status 1 when it cannot log in.
"""

import argparse
import asyncio
import json
import logging
import sys

from slixmpp import JID

# Keeps Python from writing a bytecode cache of the shared module into the test folder.
sys.dont_write_bytecode = True
from slixmpp_common import FixedAddressClient

#: Maximum wait for the login, a join or an IQ result, in seconds.
WAIT_S = 10
NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig'
NS_STANZA_ID = 'urn:xmpp:sid:0'
ROOM_CREATED = 201
PLUGINS = ('xep_0004', 'xep_0030', 'xep_0045', 'xep_0203', 'xep_0359')


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}, ensure_ascii=False), flush=True)


def stanza_id(message):
    """Return the XEP-0359 stanza id that the room (for groupchat) or the account's server set, or None."""
    by = message['from'].bare if message['type'] == 'groupchat' else message['to'].bare
    for element in message.xml.findall(f'{{{NS_STANZA_ID}}}stanza-id'):
        if element.get('by') == by:
            return element.get('id')
    return None


class PeerClient(FixedAddressClient):
    """A slixmpp client that reports the messages and room presences it receives as events."""

    def __init__(self, jid, password, host, port):
        super().__init__(jid, password, host, port)
        for plugin in PLUGINS:
            self.register_plugin(plugin)
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
        self.add_event_handler('connection_failed', lambda err: self.fail(f'connection failed: {err}'))
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('groupchat_presence', self.on_room_presence)

    def fail(self, reason):
        if not self.started.done():
            self.started.set_exception(RuntimeError(reason))

    def on_session_start(self, _event):
        self.send_presence()
        if not self.started.done():
            self.started.set_result(None)

    def on_message(self, message):
        if message['body'] or message['type'] == 'error':
            emit('message', **{'from': message['from'].full, 'type': message['type'], 'body': message['body'], 'stanza_id': stanza_id(message)})

    def on_room_presence(self, presence):
        emit('presence', **{'from': presence['from'].full, 'type': presence['type']})


async def join(client, room, nick):
    presence, _subject, _occupants, _history = await client['xep_0045'].join_muc_wait(JID(room), nick, maxstanzas=0, timeout=WAIT_S)
    created = ROOM_CREATED in presence['muc']['status_codes']
    if created:
        instant = client['xep_0004'].make_form(ftype='submit')
        instant.add_field(var='FORM_TYPE', ftype='hidden', value=NS_ROOMCONFIG)
        await client['xep_0045'].set_room_config(JID(room), instant, timeout=WAIT_S)
    emit('joined', room=room, nick=presence['from'].resource, created=created)


async def handle(client, command):
    op = command.get('op')
    if op == 'send':
        client.send_message(mto=command['to'], mbody=command['body'], mtype=command.get('type', 'chat'))
    elif op == 'join':
        await join(client, command['room'], command['nick'])
    else:
        raise ValueError(f'unknown command {op!r}')


async def read_commands(client):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command.get('op') == 'quit':
            return
        try:
            await handle(client, command)
        except Exception as err:  # the test receives the failure as an event
            emit('failed', op=command.get('op'), error=f'{type(err).__name__}: {err}')


async def run(args):
    client = PeerClient(f'{args.user}@{args.domain}/slixmpp', args.password, args.host, args.port)
    client.start()
    try:
        await asyncio.wait_for(client.started, WAIT_S)
    except Exception as err:
        emit('failed', op='login', error=f'{type(err).__name__}: {err}')
        return 1
    emit('ready', jid=client.boundjid.full)
    await read_commands(client)
    client.disconnect()
    await asyncio.wait_for(client.disconnected, WAIT_S)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help='IP address of the server (no DNS lookup is made)')
    parser.add_argument('--port', required=True, type=int, help='c2s port with STARTTLS')
    parser.add_argument('--domain', required=True, help='XMPP domain of the server')
    parser.add_argument('--user', required=True, help='username of the existing account')
    parser.add_argument('--password', required=True, help='password of the account')
    parser.add_argument('--debug', action='store_true', help='log slixmpp debug output to stderr')
    args = parser.parse_args()

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.CRITICAL, stream=sys.stderr)
    sys.exit(asyncio.run(run(args)))


if __name__ == '__main__':
    main()
