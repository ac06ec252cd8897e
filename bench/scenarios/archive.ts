/**
 * Scenario "archive": message archive queries (XEP-0313) on one account's archive of
 * --archive-messages messages, loaded once per server into its storage with the server
 * stopped (bench/servers/*-archive.ts). Each kind of query runs one at a time, and the
 * figures are its latency from query to `<fin/>`.
 */
import { performance } from 'node:perf_hooks';

import { Histogram } from '../load/histogram.js';
import { type ArchiveResult, QUERY_TIMEOUT_MS } from '../load/task-archive.js';
import { type ArchiveContent, SEARCH_WORD, timeOf } from '../servers/archive-data.js';
import { errorRemarks, figure, latencyFigures } from './measure.js';
import type { Figure, Scenario } from './types.js';

/** Partners of the owner; the owner is the first account and the partners the next ones. */
const PARTNERS = 10;
/** Bound on each kind of query in one run: no query starts after it. */
const KIND_TIMEOUT_MS = 60_000;
/** Bound on a run beyond its kinds: logging in and finding the middle id. */
const RUN_GRACE_MS = 180_000;
const KINDS = 5;
const HALF_HOUR_MS = 30 * 60_000;

/** Facts about the loaded archive that the runs need. */
interface LoadedArchive {
  loaded: number;
}

/** Latency of archive queries on a large archive. */
export const archiveScenario: Scenario = {
  name: 'archive',
  summary: 'archive queries on one account with a large archive: last page, page after a middle id, with, start/end, full text',
  accountsNeeded: () => PARTNERS + 1,

  async prepare({ prepared, accounts, settings, log }) {
    if (!prepared.fillArchive) throw new Error(`no archive loader for ${prepared.name}`);
    const content = archiveContent(accounts.map((account) => account.username), settings.archiveMessages);
    const start = performance.now();
    const loaded = await prepared.fillArchive(content, Date.now() + settings.archiveLoadSeconds * 1000, log);
    const seconds = (performance.now() - start) / 1000;
    log(`${prepared.name}: loaded ${loaded} archived messages in ${seconds.toFixed(0)} s`);
    if (loaded === 0) throw new Error('no message could be loaded into the archive');
    const notes = [`archive: ${loaded.toLocaleString('en-US')} messages loaded into one archive in ${seconds.toFixed(0)} s`];
    if (loaded < settings.archiveMessages) notes.push(`archive: the load stopped at ${settings.archiveLoadSeconds} s (--archive-load-seconds), below the ${settings.archiveMessages.toLocaleString('en-US')} asked for`);
    return { notes, data: { loaded } satisfies LoadedArchive };
  },

  async run({ server, pool, accounts, settings, prepared }) {
    const { loaded } = prepared as LoadedArchive;
    const middleTime = timeOf(Math.floor(loaded / 2));
    const group = pool.run([
      {
        kind: 'archive',
        target: server.target,
        owner: accounts[0]!,
        withJid: `${accounts[3]!.username}@${server.target.domain}`,
        searchWord: SEARCH_WORD,
        rangeStart: middleTime - HALF_HOUR_MS,
        rangeEnd: middleTime + HALF_HOUR_MS,
        middleTime,
        queriesPerKind: settings.archiveQueries,
        kindTimeoutMs: KIND_TIMEOUT_MS,
      },
    ]);
    const { values } = await group.done<ArchiveResult>(KINDS * (KIND_TIMEOUT_MS + 2 * QUERY_TIMEOUT_MS) + RUN_GRACE_MS);
    const result = values[0]!;

    const figures: Figure[] = [figure('messages in the archive', loaded, 'neither')];
    const remarks: string[] = [];
    for (const kind of result.kinds) {
      if (kind.skipped) {
        remarks.push(`${kind.kind}: not measured, ${kind.skipped}`);
        continue;
      }
      figures.push(...latencyFigures(kind.kind, Histogram.fromData(kind.latency)), figure(`${kind.kind}: results per page`, kind.resultsPerPage, 'neither'));
      remarks.push(...errorRemarks(kind.kind, [kind.errors]));
      if (kind.queries < settings.archiveQueries) remarks.push(`${kind.kind}: ${kind.queries} of ${settings.archiveQueries} queries in the ${KIND_TIMEOUT_MS / 1000} s bound`);
    }
    return { figures, remarks };
  },
};

/** Builds the content of the first account's archive, with the next PARTNERS accounts as partners. */
function archiveContent(usernames: string[], count: number): ArchiveContent {
  return { owner: usernames[0]!, partners: usernames.slice(1, PARTNERS + 1), count };
}
