"""Searches Parley's organisation directory (XEP-0055) with slixmpp (Debian's python3-slixmpp 1.8.3).

The client finds the directory through the server's disco#items, fetches the search
form, searches with a data form by pinyin and by department, and pages with RSM. It
prints one JSON line with the outcome of each step.
"""

import argparse
import asyncio
import json
import logging

from slixmpp import Iq
from slixmpp.plugins.xep_0004.stanza import Form
from slixmpp.plugins.xep_0055.stanza import Search
from slixmpp.plugins.xep_0059.stanza import Set
from slixmpp.xmlstream import register_stanza_plugin

from slixmpp_common import FixedAddressClient, Scenario, expect_equal

NS_SEARCH = 'jabber:iq:search'


def result_jids(result):
    return sorted(str(item['jid']) for item in result['search']['form']['items'])


async def run(args):
    register_stanza_plugin(Iq, Search)
    register_stanza_plugin(Search, Form)
    register_stanza_plugin(Search, Set)

    client = FixedAddressClient(f'{args.user}@{args.domain}', args.password, args.host, args.port)
    client.register_plugin('xep_0030')
    client.register_plugin('xep_0004')
    client.register_plugin('xep_0059')
    started = asyncio.get_running_loop().create_future()
    client.add_event_handler('session_start', lambda _: started.done() or started.set_result(True))
    client.add_event_handler('failed_all_auth', lambda _: started.done() or started.set_exception(RuntimeError('login failed')))
    client.start()

    scenario = Scenario()
    found = {}

    async def log_in():
        await asyncio.wait_for(started, 15)

    async def discover():
        items = await client['xep_0030'].get_items(jid=args.domain, timeout=10)
        for item in items['disco_items']['items']:
            info = await client['xep_0030'].get_info(jid=item[0], timeout=10)
            identities = [(identity[0], identity[1]) for identity in info['disco_info']['identities']]
            if ('directory', 'user') in identities and NS_SEARCH in info['disco_info']['features']:
                found['jid'] = item[0]
        if 'jid' not in found:
            raise AssertionError('no directory among the server items')

    async def search_form():
        iq = client.make_iq_get(ito=found['jid'])
        iq.enable('search')
        result = await iq.send(timeout=10)
        expect_equal(sorted(result['search']['form'].get_fields().keys()), ['FORM_TYPE', 'department', 'text', 'title'], 'form fields')

    async def submit(fields, max_items=None):
        iq = client.make_iq_set(ito=found['jid'])
        form = iq['search']['form']
        form.set_type('submit')
        form.add_field(var='FORM_TYPE', ftype='hidden', value=NS_SEARCH)
        for name, value in fields.items():
            form.add_field(var=name, value=value)
        if max_items is not None:
            iq['search']['rsm']['max'] = str(max_items)
        return await iq.send(timeout=10)

    async def search_pinyin():
        expect_equal(result_jids(await submit({'text': 'zhang san'})), [f'zhangsan@{args.domain}'], 'full pinyin')
        expect_equal(result_jids(await submit({'text': 'zs'})), [f'zhangsan@{args.domain}'], 'initials')

    async def search_department():
        expect_equal(result_jids(await submit({'department': 'yanfa'})), [f'lisi@{args.domain}', f'zhangsan@{args.domain}'], 'department')

    async def paging():
        first = await submit({'department': 'yanfa'}, max_items=1)
        expect_equal(result_jids(first), [f'lisi@{args.domain}'], 'first page')
        expect_equal(str(first['search']['rsm']['count']), '2', 'count')

    await scenario.step('log_in', log_in)
    await scenario.step('discover', discover)
    await scenario.step('search_form', search_form)
    await scenario.step('search_pinyin', search_pinyin)
    await scenario.step('search_department', search_department)
    await scenario.step('paging', paging)

    client.disconnect()
    print(json.dumps({'steps': scenario.steps, 'errors': scenario.errors}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ('host', 'domain', 'user', 'password'):
        parser.add_argument(f'--{name}', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR)
    asyncio.run(run(args))


if __name__ == '__main__':
    main()
