/** The organisation directory: XEP-0055 search over account profiles, with pinyin matching for Chinese names. */
import { defineModule } from '../../core/module.js';
import { backfillIndex, indexAccount, refreshDepartmentName, reindexDepartment } from './indexer.js';
import { DirectoryService, SERVICE_NAME } from './service.js';

export const directoryModule = defineModule({
  name: 'directory',
  depends: ['disco'],
  specs: [
    { spec: 'XEP-0055', version: '1.3', status: 'complete', note: 'data forms (text, department, title) and the fixed first/last/nick/email fields' },
    { spec: 'XEP-0059', version: '1.0.0', status: 'complete', note: 'search results page by JID with after, before, index and count' },
  ],
  async setup(ctx) {
    const { server } = ctx;
    const { directory, domain } = server.config;
    if (!directory.enabled) return;

    // The service is an item of the server's disco#items with the identity directory/user,
    // because clients look for user directories there. libpurple (disco.c) queries each
    // server item and records those with that identity, and service browsers offer search
    // for an item with the jabber:iq:search feature.
    const service = new DirectoryService(server, directory.domain || `directory.${domain}`);
    server.router.addDomain(service.domain, (event) => service.handle(event));
    server.disco.hostItems.push({ jid: service.domain, name: SERVICE_NAME });

    const indexed = await backfillIndex(server, domain);
    if (indexed > 0) ctx.log.info({ indexed }, 'indexed accounts for the directory');

    const reindex = async (host: string, username: string): Promise<void> => {
      if (host !== domain) return;
      const department = await indexAccount(server, host, username);
      if (department !== null) await refreshDepartmentName(server, host, department);
    };
    ctx.on('account/created', ({ host, username }) => reindex(host, username));
    ctx.on('account/updated', ({ host, username }) => reindex(host, username));
    ctx.on('account/deleted', async ({ host, username }) => {
      if (host === domain) await server.storage.directory.remove(host, username);
    });
    ctx.on('org/group-changed', async ({ host, id, changed }) => {
      if (host === domain && (changed.includes('name') || changed.includes('deleted'))) await reindexDepartment(server, host, id);
    });
  },
});
