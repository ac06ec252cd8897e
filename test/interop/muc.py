"""Interoperability scenario of Parley's multi-user chat (XEP-0045) with slixmpp's xep_0045 plugin.

Two existing accounts log in with Debian's python3-slixmpp 1.8.3. The owner (a) creates
and configures a room, and the other account (b) joins with a non-ASCII nickname. Both
exchange groupchat messages. The owner then changes the subject, grants b membership and
then admin, reads the affiliation lists, kicks b and finally bans it. Each step checks
what both clients receive. The clients connect only to the host and port they are given,
over STARTTLS (see slixmpp_common.py).

It prints one JSON object: {"steps": {name: true|false}, "errors": {name: text}}, and
exits with status 1 when a step failed.
"""

import argparse
import asyncio
import json
import logging
import sys

from slixmpp import JID
from slixmpp.exceptions import IqError, PresenceError

# Keeps Python from writing a bytecode cache of the shared module into the test folder.
sys.dont_write_bytecode = True
from slixmpp_common import FixedAddressClient, Inbox, Scenario, expect_equal

#: Maximum wait for one stanza, event or IQ result, in seconds.
WAIT_S = 5
NS_MUC = 'http://jabber.org/protocol/muc'
NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig'
NS_STANZA_ID = 'urn:xmpp:sid:0'
ROOM_NAME = 'Interop room'
OWNER_NICK = 'owner'
#: A nickname outside ASCII: nicknames are resourceparts (PRECIS OpaqueString).
GUEST_NICK = 'gäst-日本語'
PLUGINS = ('xep_0004', 'xep_0030', 'xep_0045', 'xep_0203', 'xep_0359')

# XEP-0045 status codes.
SELF_PRESENCE = 110
ROOM_CREATED = 201
BANNED = 301
KICKED = 307


class MucClient(FixedAddressClient):
    """A slixmpp client with the MUC plugin that records the room traffic it receives."""

    def __init__(self, jid, password, host, port):
        super().__init__(jid, password, host, port)
        for plugin in PLUGINS:
            self.register_plugin(plugin)

        self.failure = None
        self.session_started = asyncio.Event()
        self.groupchat = Inbox()
        self.subjects = Inbox()
        self.room_presences = Inbox()
        self.error_messages = Inbox()

        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
        self.add_event_handler('connection_failed', lambda err: self.fail(f'connection failed: {err}'))
        self.add_event_handler('stream_error', lambda err: self.fail(f'stream error: {err}'))
        self.add_event_handler('groupchat_message', self.groupchat.add)
        self.add_event_handler('groupchat_subject', self.subjects.add)
        self.add_event_handler('groupchat_presence', self.room_presences.add)
        self.add_event_handler('message_error', self.error_messages.add)

    def fail(self, reason):
        if self.failure is None:
            self.failure = reason
        self.session_started.set()

    def on_session_start(self, _event):
        self.send_presence()
        self.session_started.set()

    async def start_session(self):
        self.start()
        await asyncio.wait_for(self.session_started.wait(), WAIT_S)
        if self.failure is not None:
            raise RuntimeError(self.failure)

    async def stop(self):
        self.disconnect()
        await asyncio.wait_for(self.disconnected, WAIT_S)


async def join_room(client, room, nick):
    """Join `room` as `nick` without history and return (self-presence, subject, occupant presences, history)."""
    try:
        return await client['xep_0045'].join_muc_wait(room, nick, maxstanzas=0, timeout=WAIT_S)
    except asyncio.TimeoutError:
        raise TimeoutError(f'{client.boundjid.bare} joining as {nick!r}: no self-presence, or no subject after it, within {WAIT_S} s') from None


def stanza_id_by(message, by):
    """Return the id of the XEP-0359 `<stanza-id/>` of `message` set by `by`, or None."""
    for element in message.xml.findall(f'{{{NS_STANZA_ID}}}stanza-id'):
        if element.get('by') == by:
            return element.get('id')
    return None


def expect_status(presence, codes, what):
    missing = set(codes) - presence['muc']['status_codes']
    if missing:
        raise AssertionError(f'{what}: status codes {sorted(missing)} missing from {presence}')


def expect_item(presence, affiliation, role, what):
    expect_equal((presence['muc']['affiliation'], presence['muc']['role']), (affiliation, role), f'{what}: (affiliation, role)')


def from_nick(room, nick, presence_type=None):
    """Match a stanza from the occupant `nick` of `room`, of `presence_type` when given."""
    occupant = f'{room}/{nick}'

    def matches(stanza):
        if stanza['from'].full != occupant:
            return False
        return presence_type is None or stanza['type'] == presence_type

    return matches


class MucScenario(Scenario):
    """The state the steps share: the two clients and the room."""

    def __init__(self, args):
        super().__init__()
        self.args = args
        self.jid_a = f'{args.user_a}@{args.domain}'
        self.jid_b = f'{args.user_b}@{args.domain}'
        self.room = JID(f'{args.room}@{args.muc_domain}')
        self.clients = {}

    @property
    def a(self):
        return self.clients['a']

    @property
    def b(self):
        return self.clients['b']

    async def next_presence(self, client, mark, predicate, description):
        """Return the first room presence of `client` after its first `mark` ones that satisfies `predicate`."""
        def later(presence):
            return any(item is presence for item in client.room_presences.items[mark:]) and predicate(presence)
        return await client.room_presences.find(later, description, WAIT_S)

    async def stop_all(self):
        for client in self.clients.values():
            try:
                await client.stop()
            except Exception:  # a client that failed may already be gone
                pass


async def log_in(scenario):
    """Both accounts log in."""
    for key, jid, password in (('a', scenario.jid_a, scenario.args.password_a), ('b', scenario.jid_b, scenario.args.password_b)):
        client = MucClient(f'{jid}/slixmpp', password, scenario.args.host, scenario.args.port)
        scenario.clients[key] = client
        await client.start_session()


async def create_room(scenario):
    """a joins a room that does not exist yet, which creates it (status 201) with a as its owner."""
    presence, _subject, _occupants, _history = await join_room(scenario.a, scenario.room, OWNER_NICK)
    expect_status(presence, [SELF_PRESENCE, ROOM_CREATED], "a's self-presence")
    expect_item(presence, 'owner', 'moderator', "a's self-presence")


async def configure_room(scenario):
    """a reads the configuration form, then submits a name and makes the room persistent."""
    muc = scenario.a['xep_0045']
    form = await muc.get_room_config(scenario.room, timeout=WAIT_S)
    fields = form.get_fields()
    # slixmpp 1.8.3 reads a hidden field as multi-valued, so FORM_TYPE's value is a list.
    expect_equal(fields['FORM_TYPE']['value'] if 'FORM_TYPE' in fields else None, [NS_ROOMCONFIG], 'FORM_TYPE of the form')
    for name in ('muc#roomconfig_roomname', 'muc#roomconfig_persistentroom'):
        if name not in fields:
            raise AssertionError(f'the configuration form has no field {name}: {sorted(fields)}')

    submit = scenario.a['xep_0004'].make_form(ftype='submit')
    submit.add_field(var='FORM_TYPE', ftype='hidden', value=NS_ROOMCONFIG)
    submit.add_field(var='muc#roomconfig_roomname', value=ROOM_NAME)
    submit.add_field(var='muc#roomconfig_persistentroom', value=True)
    await muc.set_room_config(scenario.room, submit, timeout=WAIT_S)

    info = await scenario.a['xep_0030'].get_info(jid=scenario.room, timeout=WAIT_S)
    identities = info['disco_info']['identities']
    if not any(category == 'conference' and name == ROOM_NAME for category, _type, _lang, name in identities):
        raise AssertionError(f'no conference identity named {ROOM_NAME!r} in {identities}')
    features = info['disco_info']['features']
    for feature in (NS_MUC, 'muc_persistent'):
        if feature not in features:
            raise AssertionError(f'disco#info of the room lacks {feature}: {features}')


async def join(scenario):
    """b joins with a non-ASCII nickname, and each side receives the other's presence with the right affiliation and role."""
    mark = len(scenario.a.room_presences.items)
    presence, _subject, occupants, _history = await join_room(scenario.b, scenario.room, GUEST_NICK)
    expect_status(presence, [SELF_PRESENCE], "b's self-presence")
    expect_equal(presence['from'].resource, GUEST_NICK, "b's nickname")
    expect_item(presence, 'none', 'participant', "b's self-presence")

    owners = [p for p in occupants if p['from'].resource == OWNER_NICK]
    if len(owners) != 1:
        raise AssertionError(f"b did not get a's presence before its own: {[str(p['from']) for p in occupants]}")
    expect_item(owners[0], 'owner', 'moderator', "a's presence at b")

    seen = await scenario.next_presence(scenario.a, mark, from_nick(scenario.room, GUEST_NICK, 'available'), "a: b's presence")
    expect_item(seen, 'none', 'participant', "b's presence at a")
    # The owner is a moderator, who receives real JIDs even in a semi-anonymous room.
    expect_equal(seen['muc']['jid'].bare, scenario.jid_b, "b's real JID at a")
    expect_equal(sorted(scenario.b['xep_0045'].get_roster(scenario.room)), sorted([OWNER_NICK, GUEST_NICK]), "b's occupant list")


async def exchange_messages(scenario):
    """Each side sends a groupchat message, and both get it from the sender's occupant JID with the same stanza id."""
    for sender, nick in ((scenario.a, OWNER_NICK), (scenario.b, GUEST_NICK)):
        body = f'hello from {nick}'
        sender.send_message(mto=scenario.room, mbody=body, mtype='groupchat')
        ids = []
        for receiver in (scenario.a, scenario.b):
            message = await receiver.groupchat.find(
                lambda m, body=body: m['body'] == body, f'{receiver.boundjid.bare}: {body!r}', WAIT_S)
            expect_equal(message['from'].full, f'{scenario.room}/{nick}', f'from of {body!r}')
            ids.append(stanza_id_by(message, scenario.room.bare))
        if ids[0] is None or ids[0] != ids[1]:
            raise AssertionError(f'<stanza-id by="{scenario.room.bare}"/> of {body!r} at a and b: {ids}')


async def change_subject(scenario):
    """a sets the subject, and both occupants get it from a's occupant JID."""
    subject = 'Interoperability testing'
    scenario.a['xep_0045'].set_subject(scenario.room, subject)
    for receiver in (scenario.a, scenario.b):
        message = await receiver.subjects.find(lambda m: m['subject'] == subject, f'{receiver.boundjid.bare}: the new subject', WAIT_S)
        expect_equal(message['from'].full, f'{scenario.room}/{OWNER_NICK}', 'from of the subject change')


async def set_affiliation(scenario, affiliation, role):
    """a sets b's affiliation, and both receive b's presence with the new affiliation and `role`."""
    marks = [len(client.room_presences.items) for client in (scenario.a, scenario.b)]
    await scenario.a['xep_0045'].set_affiliation(scenario.room, affiliation, jid=JID(scenario.jid_b), timeout=WAIT_S)
    for client, mark in zip((scenario.a, scenario.b), marks):
        is_b = from_nick(scenario.room, GUEST_NICK, 'available')
        changed = await scenario.next_presence(
            client, mark, lambda p: is_b(p) and p['muc']['affiliation'] == affiliation, f'{client.boundjid.bare}: b as {affiliation}')
        expect_item(changed, affiliation, role, f'b as {affiliation} at {client.boundjid.bare}')


async def affiliation_list(scenario, affiliation):
    jids = await scenario.a['xep_0045'].get_affiliation_list(scenario.room, affiliation, timeout=WAIT_S)
    return sorted(JID(jid).bare for jid in jids)


async def grant_membership(scenario):
    """a makes b a member and finds b in the member list."""
    await set_affiliation(scenario, 'member', 'participant')
    expect_equal(await affiliation_list(scenario, 'member'), [scenario.jid_b], 'member list')


async def grant_admin(scenario):
    """a makes b an admin, which makes b a moderator, and b moves from the member list to the admin list."""
    await set_affiliation(scenario, 'admin', 'moderator')
    expect_equal(await affiliation_list(scenario, 'admin'), [scenario.jid_b], 'admin list')
    expect_equal(await affiliation_list(scenario, 'member'), [], 'member list')
    expect_equal(await affiliation_list(scenario, 'owner'), [scenario.jid_a], 'owner list')


async def admin_cannot_kick_owner(scenario):
    """b, now an admin, tries to kick the owner and gets not-allowed (XEP-0045 8.2)."""
    try:
        await scenario.b['xep_0045'].set_role(scenario.room, OWNER_NICK, 'none', timeout=WAIT_S)
    except IqError as err:
        expect_equal(err.iq['error']['condition'], 'not-allowed', 'error condition')
        return
    raise AssertionError('the service let an admin kick the owner')


async def revoke_admin(scenario):
    """a makes b a plain member again."""
    await set_affiliation(scenario, 'member', 'participant')
    expect_equal(await affiliation_list(scenario, 'admin'), [], 'admin list')


async def expect_removed(scenario, marks, code):
    """Both clients receive b's unavailable presence with status `code`, and b's own copy also has 110."""
    for client, mark in zip((scenario.a, scenario.b), marks):
        gone = await scenario.next_presence(
            client, mark, from_nick(scenario.room, GUEST_NICK, 'unavailable'), f'{client.boundjid.bare}: b leaving')
        expect_status(gone, [code], f"b's unavailable presence at {client.boundjid.bare}")
    own = scenario.b.room_presences.items[marks[1]:]
    if not any(SELF_PRESENCE in p['muc']['status_codes'] for p in own if p['type'] == 'unavailable'):
        raise AssertionError("b's unavailable presence has no status 110")


async def kick(scenario):
    """a kicks b (role none), both receive b's exit with 307, and b can join again as a member."""
    marks = [len(client.room_presences.items) for client in (scenario.a, scenario.b)]
    await scenario.a['xep_0045'].set_role(scenario.room, GUEST_NICK, 'none', reason='interop kick', timeout=WAIT_S)
    await expect_removed(scenario, marks, KICKED)

    presence, _subject, _occupants, _history = await join_room(scenario.b, scenario.room, GUEST_NICK)
    expect_item(presence, 'member', 'participant', "b's self-presence after the kick")


async def ban(scenario):
    """a bans b (affiliation outcast), and both receive b's exit with 301. b is then on the outcast list and cannot join again."""
    marks = [len(client.room_presences.items) for client in (scenario.a, scenario.b)]
    await scenario.a['xep_0045'].set_affiliation(scenario.room, 'outcast', jid=JID(scenario.jid_b), reason='interop ban', timeout=WAIT_S)
    await expect_removed(scenario, marks, BANNED)
    expect_equal(await affiliation_list(scenario, 'outcast'), [scenario.jid_b], 'outcast list')
    expect_equal(await affiliation_list(scenario, 'member'), [], 'member list')

    try:
        await join_room(scenario.b, scenario.room, GUEST_NICK)
    except PresenceError as err:
        expect_equal(err.condition, 'forbidden', 'error condition of the banned join')
        return
    except TimeoutError:
        # slixmpp only takes an error presence that carries <x xmlns='http://jabber.org/protocol/muc'/> as a failed join.
        raise AssertionError('no error presence with <x xmlns="http://jabber.org/protocol/muc"/> answered the banned join') from None
    raise AssertionError('the banned account joined the room again')


async def no_error_messages(scenario):
    """No client got a message of type error during the scenario."""
    for key, client in scenario.clients.items():
        if client.error_messages.items:
            raise AssertionError(f'{key} got error messages: {[str(message) for message in client.error_messages.items]}')


async def run(args):
    scenario = MucScenario(args)
    await scenario.step('log_in', lambda: log_in(scenario))
    await scenario.step('create_room', lambda: create_room(scenario))
    await scenario.step('configure_room', lambda: configure_room(scenario))
    await scenario.step('join', lambda: join(scenario), ['create_room'])
    await scenario.step('exchange_messages', lambda: exchange_messages(scenario), ['join'])
    await scenario.step('change_subject', lambda: change_subject(scenario), ['join'])
    await scenario.step('grant_membership', lambda: grant_membership(scenario), ['join'])
    await scenario.step('grant_admin', lambda: grant_admin(scenario), ['grant_membership'])
    await scenario.step('admin_cannot_kick_owner', lambda: admin_cannot_kick_owner(scenario), ['grant_admin'])
    await scenario.step('revoke_admin', lambda: revoke_admin(scenario), ['grant_admin'])
    await scenario.step('kick', lambda: kick(scenario), ['revoke_admin'])
    await scenario.step('ban', lambda: ban(scenario), ['kick'])
    await scenario.step('no_error_messages', lambda: no_error_messages(scenario), [])
    await scenario.stop_all()
    return scenario


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help='IP address of the server (no DNS lookup is made)')
    parser.add_argument('--port', required=True, type=int, help='c2s port with STARTTLS')
    parser.add_argument('--domain', required=True, help='XMPP domain of the server')
    parser.add_argument('--muc-domain', required=True, help='domain of the MUC service')
    parser.add_argument('--room', default='interop', help='localpart of the room to create')
    for key in ('a', 'b'):
        parser.add_argument(f'--user-{key}', default=f'slix-muc-{key}', help=f'username of the existing account {key}')
        parser.add_argument(f'--password-{key}', default=f'password-{key}', help=f'password of account {key}')
    parser.add_argument('--debug', action='store_true', help='log slixmpp debug output to stderr')
    args = parser.parse_args()

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.CRITICAL, stream=sys.stderr)
    scenario = asyncio.run(run(args))
    print(json.dumps({'steps': scenario.steps, 'errors': scenario.errors}))
    sys.exit(0 if all(scenario.steps.values()) else 1)


if __name__ == '__main__':
    main()
