/**
 * The inbox: a conversation list for each account with the last message, exact unread
 * counts, read positions and pinned, muted and archived flags, queried in MongooseIM's
 * dialect of XEP-0430 with Parley's additions (docs/protocol.md, section Inbox).
 */
import { StanzaError } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { NS_INBOX, NS_INBOX_CONVERSATION, NS_PARLEY_INBOX } from './ns.js';
import { InboxProperties } from './properties.js';
import { INBOX_PUSH_EVENT, InboxPushes } from './pushes.js';
import { queryFormElement, runInboxQuery } from './query.js';
import { InboxRecorder } from './recorder.js';

/** Switches pushes for the requesting session; pushes are per session, so another session cannot. */
function switchPushes(pushes: InboxPushes, request: IqRequest, enabled: boolean): void {
  if (!request.self || !request.session) throw new StanzaError('forbidden', 'Pushes are switched for the requesting session only.');
  if (enabled) pushes.subscribe(request.session);
  else pushes.unsubscribe(request.session);
}

export const inboxModule = defineModule({
  name: 'inbox',
  specs: [
    {
      spec: 'XEP-0430',
      version: '0.2.0',
      status: 'partial',
      note: "MongooseIM's dialect (erlang-solutions.com:xmpp:inbox:0) with box, archive, mute and read properties; no marking unread",
    },
  ],
  depends: ['mam'],
  setup(ctx) {
    const { server } = ctx;
    const pushes = new InboxPushes(server);
    server.cluster?.onAccountEvent(INBOX_PUSH_EVENT, (owner, data) => pushes.receiveRelayed(owner, data));
    const recorder = new InboxRecorder(server, ctx.log, pushes);
    const properties = new InboxProperties(server, pushes);
    server.disco.addAccountFeature(NS_INBOX, NS_INBOX_CONVERSATION, NS_PARLEY_INBOX);

    ctx.on('message/sent', (event) => recorder.sent(event));
    ctx.on('message/routed', (event) => recorder.routed(event));
    ctx.on('muc/message', (event) => recorder.group(event));
    ctx.on('read/position', (event) => recorder.readPosition(event));

    ctx.iq('get', 'account', NS_INBOX, 'inbox', () => queryFormElement());
    ctx.iq('set', 'account', NS_INBOX, 'inbox', (request) => runInboxQuery(server, pushes, request));
    ctx.iq('get', 'account', NS_INBOX_CONVERSATION, 'query', (request) => properties.get(request));
    ctx.iq('set', 'account', NS_INBOX_CONVERSATION, 'query', (request) => properties.set(request));
    ctx.iq('set', 'account', NS_PARLEY_INBOX, 'enable', (request) => switchPushes(pushes, request, true));
    ctx.iq('set', 'account', NS_PARLEY_INBOX, 'disable', (request) => switchPushes(pushes, request, false));
  },
});
