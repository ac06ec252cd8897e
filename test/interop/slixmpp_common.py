"""Helpers shared by the slixmpp interoperability scenarios (Debian's python3-slixmpp 1.8.3).

FixedAddressClient connects only to the host and port it is given (the DNS step of
slixmpp is overridden) and uses STARTTLS without certificate verification, because the
test server has a self-signed certificate. Scenario runs named steps and records their
results for the JSON line the scripts print. Inbox keeps what a client received, so that a
step can wait for one stanza among them.
"""

import asyncio
import ssl

import slixmpp

#: How long Inbox.find waits for a stanza by default, in seconds.
FIND_TIMEOUT_S = 5


class FixedAddressClient(slixmpp.ClientXMPP):
    """A slixmpp client that connects to one fixed address over TCP with mandatory STARTTLS."""

    def __init__(self, jid, password, host, port):
        super().__init__(jid, password)
        self.target = (host, port)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        # slixmpp 1.8.3 always binds SCRAM-*-PLUS to tls-unique, which TLS 1.3 does not
        # define (RFC 9266), so over TLS 1.3 it fails every SCRAM variant and falls back
        # to PLAIN. Over TLS 1.2 its channel binding is valid.
        self.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2

    async def get_dns_records(self, domain, port=None):
        """Return the fixed address instead of asking DNS for the domain."""
        return [(domain, self.target[0], self.target[1])]

    def start(self):
        """Start connecting over TCP with mandatory STARTTLS."""
        self.connect(self.target, use_ssl=False, force_starttls=True, disable_starttls=False)


async def next_from(queue, bare_jid, predicate=lambda _: True, timeout=10):
    """Return the next queued stanza from `bare_jid` that matches `predicate`, waiting at most `timeout` seconds for each stanza."""
    while True:
        stanza = await asyncio.wait_for(queue.get(), timeout)
        if stanza['from'].bare == bare_jid and predicate(stanza):
            return stanza


class Scenario:
    """Runs steps in order and records their outcomes. A step whose requirements failed is marked skipped."""

    def __init__(self):
        self.steps = {}
        self.errors = {}

    async def step(self, name, action, requires=None):
        """Run `action` as the step `name` and record the outcome.

        `requires` names the steps that must have passed first; None means every earlier step.
        """
        needed = list(self.steps) if requires is None else requires
        failed = [step for step in needed if not self.steps.get(step, False)]
        if failed:
            self.steps[name] = False
            self.errors[name] = f'skipped after a failure of {", ".join(failed)}'
            return
        try:
            await action()
            self.steps[name] = True
        except Exception as err:  # the failure is reported, whatever its kind
            self.steps[name] = False
            self.errors[name] = f'{type(err).__name__}: {err}'


class Inbox:
    """Stanzas of one kind that a client received, in order of arrival."""

    def __init__(self):
        self.items = []
        self._arrival = asyncio.Event()

    def add(self, stanza):
        self.items.append(stanza)
        self._arrival.set()

    def count(self, predicate):
        return sum(1 for item in self.items if predicate(item))

    async def find(self, predicate, description, timeout=FIND_TIMEOUT_S):
        """Return the first stanza that matches `predicate`, waiting up to `timeout` seconds for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for item in self.items:
                if predicate(item):
                    return item
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f'{description} did not arrive within {timeout} s')
            self._arrival.clear()
            try:
                await asyncio.wait_for(self._arrival.wait(), remaining)
            except asyncio.TimeoutError:
                pass


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f'{what}: expected {expected!r}, got {actual!r}')
