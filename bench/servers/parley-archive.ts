/**
 * Loads the benchmark archive into Parley's SQLite database, with the server stopped:
 * rows of archive_messages and their search terms in archive_fts, as the archive writer
 * stores them, with the server's own tokenizer, terms and stanza id generator, written by
 * SQL in large transactions.
 */
import path from 'node:path';

import Database from 'better-sqlite3';
import { escapeAttr, escapeText } from '@parley/xmpp';

import { StanzaIdGenerator } from '../../packages/server/src/modules/mam/ids.js';
import { accountScope, FtsIndex, ftsTerms } from '../../packages/server/src/storage/fts.js';
import { tokenize } from '../../packages/server/src/modules/mam/tokenize.js';
import { type ArchiveSpec, archiveItem } from './archive-data.js';

const ROWS_PER_TRANSACTION = 20_000;

/** Writes spec.count messages into the owner's archive, or as many as fit before `deadline` (Date.now()); returns how many. */
export function fillParleyArchive(stateDir: string, spec: ArchiveSpec, deadline: number): number {
  const db = new Database(path.join(stateDir, 'parley.sqlite'));
  try {
    // Only this loader writes; the benchmark copies the files after it closes the database.
    db.pragma('synchronous = OFF');
    const insertMessage = db.prepare(
      `INSERT INTO archive_messages (host, username, stanza_id, created_at, with_bare, with_resource, sender, message_id, origin_id, stanza)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
    );
    const insertTerms = db.prepare(new FtsIndex('archive_fts').insertSql);
    const scope = accountScope(spec.domain, spec.owner);
    let time = 0;
    const ids = new StanzaIdGenerator(() => time);
    const owner = `${spec.owner}@${spec.domain}`;

    const writeRange = db.transaction((from: number, to: number) => {
      for (let index = from; index < to; index++) {
        const item = archiveItem(spec, index);
        time = item.time;
        const stanza = `<message xmlns='jabber:client' from='${escapeAttr(item.from)}' to='${escapeAttr(item.to)}' type='chat' id='${item.id}'><body>${escapeText(item.body)}</body></message>`;
        const resource = item.outgoing ? '' : item.from.slice(item.from.indexOf('/') + 1);
        const sender = item.outgoing ? owner : item.partner;
        const { lastInsertRowid } = insertMessage.run(spec.domain, spec.owner, ids.next().id, item.time, item.partner, resource, sender, item.id, stanza);
        const tokens = tokenize(item.body, 'index');
        if (tokens.length > 0) insertTerms.run(lastInsertRowid, ftsTerms(scope, tokens));
      }
    });

    let loaded = 0;
    while (loaded < spec.count && Date.now() < deadline) {
      const next = Math.min(spec.count, loaded + ROWS_PER_TRANSACTION);
      writeRange(loaded, next);
      loaded = next;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    return loaded;
  } finally {
    db.close();
  }
}
