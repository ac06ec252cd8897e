/**
 * The message archive (XEP-0313) with stanza ids (XEP-0359), preferences (XEP-0441),
 * full-text search (XEP-0431), and corrections (XEP-0308) and retractions (XEP-0424)
 * applied to archived messages.
 */
import { JID, NS } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import { ArchiveWriter } from './archive-writer.js';
import { StanzaIdGenerator } from './ids.js';
import { PrefsStore, handlePrefs } from './prefs.js';
import { ArchiveQueries } from './account-queries.js';

/**
 * Priority of the archiving hooks: above the default 0, so that modules hooked at 0 (carbons)
 * see the stanza id, and below modules that reject a message before it counts as sent
 * (blocking), which must use a higher priority.
 */
export const ARCHIVE_PRIORITY = 50;

export { archiveIdOf } from './ids.js';

export const mamModule = defineModule({
  name: 'mam',
  specs: [
    { spec: 'XEP-0313', version: '1.1.3', status: 'complete', note: 'user archives; groupchat messages are not archived' },
    { spec: 'XEP-0359', version: '0.7.0', status: 'complete' },
    { spec: 'XEP-0441', version: '0.2.0', status: 'complete' },
    { spec: 'XEP-0431', version: '0.2.0', status: 'complete', note: 'words, and character bigrams for CJK; all terms must match' },
    { spec: 'XEP-0308', version: '1.2.1', status: 'partial', note: 'the archive rewrites the corrected message' },
    { spec: 'XEP-0424', version: '0.4.2', status: 'complete', note: 'tombstones in the archive' },
    { spec: 'XEP-0334', version: '1.0.0', status: 'partial', note: 'store, no-store and no-permanent-store in the archive' },
  ],
  async setup(ctx) {
    const { server } = ctx;
    const ids = new StanzaIdGenerator();
    const latest = await server.storage.archive.latestStanzaId();
    if (latest !== undefined) ids.advancePast(latest);

    const prefs = new PrefsStore(server.storage.archive);
    const writer = new ArchiveWriter(server, ctx.log, ids, prefs);
    const queries = new ArchiveQueries(server, ctx.log);
    server.disco.addAccountFeature(NS.MAM, NS.MAM_EXTENDED, NS.STANZA_ID, NS.FULLTEXT, NS.RETRACT, `${NS.RETRACT}#tombstone`);

    ctx.on('message/outbound', (event) => writer.outbound(event), ARCHIVE_PRIORITY);
    ctx.on('message/bare', (event) => writer.inbound(event), ARCHIVE_PRIORITY);
    ctx.on('message/full', (event) => writer.inbound(event), ARCHIVE_PRIORITY);

    ctx.iq('set', 'account', NS.MAM, 'query', (request) => queries.query(request));
    ctx.iq('get', 'account', NS.MAM, 'query', (request) => queries.form(request));
    ctx.iq('get', 'account', NS.MAM, 'metadata', (request) => queries.metadata(request));
    ctx.iq('get', 'account', NS.MAM, 'prefs', (request) => handlePrefs(prefs, request));
    ctx.iq('set', 'account', NS.MAM, 'prefs', (request) => handlePrefs(prefs, request));
    // The archive itself goes with the account's rows (foreign keys cascade); the cache must follow.
    ctx.on('account/deleted', ({ host, username }) => prefs.forget(JID.fromParts(username, host)));
  },
});
