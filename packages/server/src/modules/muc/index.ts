/** Multi-user chat (XEP-0045) as a subdomain service, with room archives (XEP-0313) and self-ping (XEP-0410). */
import { JID } from '@parley/xmpp';
import type { Logger } from 'pino';
import type { Cluster } from '../../cluster/cluster.js';
import { defineModule } from '../../core/module.js';
import { RoomArchive } from './archive/index.js';
import { RoomPlacement } from './placement.js';
import { MucService } from './service.js';

export const mucModule = defineModule({
  name: 'muc',
  depends: ['disco', 'presence'],
  specs: [
    {
      spec: 'XEP-0045',
      version: '1.35',
      status: 'partial',
      note: 'no room registration (muc#register), no muc#roomconfig_roomowners/roomadmins fields, no status 101 messages to absent users (a MAY of section 17.1)',
    },
    { spec: 'XEP-0425', version: '0.3.0', status: 'complete', note: 'retraction only; also urn:xmpp:message-moderate:0 with XEP-0422 fastening for older clients; no occupant ids (XEP-0421)' },
    { spec: 'XEP-0249', version: '1.2', status: 'complete', note: 'direct invitations route as normal messages between users' },
    { spec: 'XEP-0410', version: '1.1.0', status: 'complete' },
  ],
  async setup(ctx) {
    const { server } = ctx;
    if (!server.config.muc.enabled) return;
    for (const admin of server.config.muc.admins) {
      if (!JID.parseOrNull(admin)) throw new Error(`muc.admins: "${admin}" is not a valid JID`);
    }

    const archive = new RoomArchive(server, ctx.log);
    await archive.init();
    const service = new MucService(server, archive, ctx.log);
    await service.start();

    server.router.addDomain(service.service, (event) => service.handle(event));
    if (server.cluster) placeRooms(server.cluster, service, ctx.log);
    server.disco.hostItems.push({ jid: service.service, name: 'Chatrooms' });
    // After the presence module sent unavailable to the rooms, which it normally does.
    ctx.on('session/closed', async ({ session }) => {
      if (session.jid) await service.sessionEnded(session.jid);
    }, -100);
  },
});

/** Hosts each room on one cluster node, takes stanzas for its rooms from the other nodes, and drops occupants whose node died. */
function placeRooms(cluster: Cluster, service: MucService, log: Logger): void {
  const placement = new RoomPlacement(cluster, service.service, service, log);
  service.placement = placement;
  placement.start(cluster.heartbeatMs);
  cluster.serveDomain(service.service, (event, hops) => service.handle(event, hops));
  cluster.onNodeLost((jids) => {
    for (const jid of jids) void service.sessionEnded(jid).catch((err: unknown) => log.error({ err, jid: jid.toString() }, 'removing an occupant of a lost node failed'));
  });
}
