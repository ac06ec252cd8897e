import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';

import type { Database, DirectoryEntriesTable } from './schema.js';

/** The searchable fields of the directory index. */
export type DirectoryField = 'text' | 'department' | 'title';

/** What a search result shows of one account. */
export interface DirectoryEntry {
  host: string;
  username: string;
  displayName: string | null;
  email: string | null;
  title: string | null;
  departmentId: string | null;
  departmentName: string | null;
}

/** Search terms of one account by field; each term is already normalized. */
export type DirectoryTerms = Partial<Record<DirectoryField, Iterable<string>>>;

/**
 * A search: each field lists prefixes, and an account matches when every prefix of every
 * field starts one of its terms in that field.
 */
export type DirectoryQuery = Partial<Record<DirectoryField, string[]>>;

/** A page request in username order (the RSM item id is the username). */
export interface DirectoryPageRequest {
  max: number;
  /** Username to start after, exclusive. */
  after?: string;
  /** Username to end before, exclusive; '' asks for the last page. */
  before?: string;
  /** Position of the first result in the whole result set; used when neither after nor before is given. */
  index?: number;
}

/** A page of results with the size of the whole result set. */
export interface DirectoryPage {
  entries: DirectoryEntry[];
  count: number;
  /** Position of the first entry in the whole result set. */
  firstIndex: number;
}

/** Highest code point: a range `[prefix, prefix + MAX_CHAR)` holds every text that starts with prefix, in binary collation. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

/** Rows inserted by one statement; SQLite allows 32766 bound values and a term row has four. */
const TERM_ROWS_PER_INSERT = 500;

/**
 * The search index of the organisation directory. Construct it over a transaction to make
 * its writes part of that transaction.
 */
export class DirectoryRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Replaces the account's entry and all of its terms in one transaction. */
  async put(entry: DirectoryEntry, terms: DirectoryTerms, now = Date.now()): Promise<void> {
    await this.inTransaction(async (trx) => {
      const { host, username } = entry;
      const values = {
        display_name: entry.displayName,
        email: entry.email,
        title: entry.title,
        department_id: entry.departmentId,
        department_name: entry.departmentName,
        updated_at: now,
      };
      await trx
        .insertInto('directory_entries')
        .values({ host, username, ...values })
        .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet(values))
        .execute();

      await trx.deleteFrom('directory_terms').where('host', '=', host).where('username', '=', username).execute();
      const rows = termRows(host, username, terms);
      for (let start = 0; start < rows.length; start += TERM_ROWS_PER_INSERT) {
        await trx.insertInto('directory_terms').values(rows.slice(start, start + TERM_ROWS_PER_INSERT)).execute();
      }
    });
  }

  /** Removes the account from the index; returns false when it was not indexed. */
  async remove(host: string, username: string): Promise<boolean> {
    return this.inTransaction(async (trx) => {
      await trx.deleteFrom('directory_terms').where('host', '=', host).where('username', '=', username).execute();
      const result = await trx.deleteFrom('directory_entries').where('host', '=', host).where('username', '=', username).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  /** Returns the indexed entry of the account, or null. */
  async get(host: string, username: string): Promise<DirectoryEntry | null> {
    const row = await this.db.selectFrom('directory_entries').selectAll().where('host', '=', host).where('username', '=', username).executeTakeFirst();
    return row === undefined ? null : toEntry(row);
  }

  /** Lists the usernames whose entries name the department `departmentId`. */
  async membersOfDepartment(host: string, departmentId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('directory_entries').select('username').where('host', '=', host).where('department_id', '=', departmentId).orderBy('username').execute();
    return rows.map((row) => row.username);
  }

  /** Tells whether an entry of the department shows a name other than `name`. */
  async hasStaleDepartmentName(host: string, departmentId: string, name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('directory_entries')
      .select('username')
      .where('host', '=', host)
      .where('department_id', '=', departmentId)
      .where((eb) => eb.or([eb('department_name', '!=', name), eb('department_name', 'is', null)]))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Lists up to `limit` accounts of `host` without an entry, in username order. */
  async unindexedAccounts(host: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('accounts as a')
      .leftJoin('directory_entries as e', (join) => join.onRef('e.host', '=', 'a.host').onRef('e.username', '=', 'a.username'))
      .select('a.username')
      .where('a.host', '=', host)
      .where('e.username', 'is', null)
      .orderBy('a.username')
      .limit(limit)
      .execute();
    return rows.map((row) => row.username);
  }

  /**
   * Returns one page of the enabled accounts that match `query`, in username order, and
   * the number of all matches. The terms index serves each prefix with a range scan.
   */
  async search(host: string, query: DirectoryQuery, page: DirectoryPageRequest): Promise<DirectoryPage> {
    const matches = this.matching(host, query);
    const countRow = await matches.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    const count = Number(countRow.count);

    if (page.before !== undefined) return this.pageBefore(matches, page, count);
    let rows = matches.selectAll('e').orderBy('e.username').limit(page.max);
    let firstIndex = 0;
    if (page.after !== undefined) {
      rows = rows.where('e.username', '>', page.after);
      firstIndex = await this.position(matches, page.after, '<=');
    } else if (page.index !== undefined) {
      rows = rows.offset(page.index);
      firstIndex = page.index;
    }
    return { entries: (await rows.execute()).map(toEntry), count, firstIndex };
  }

  private async pageBefore(matches: MatchQuery, page: DirectoryPageRequest, count: number): Promise<DirectoryPage> {
    let rows = matches.selectAll('e').orderBy('e.username', 'desc').limit(page.max);
    if (page.before !== '') rows = rows.where('e.username', '<', page.before!);
    const entries = (await rows.execute()).map(toEntry).reverse();
    const first = entries[0];
    const firstIndex = first === undefined ? 0 : await this.position(matches, first.username, '<');
    return { entries, count, firstIndex };
  }

  /** Counts the matches whose username compares to `username` with the operator `op`. */
  private async position(matches: MatchQuery, username: string, op: '<' | '<='): Promise<number> {
    const row = await matches
      .where('e.username', op, username)
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Builds the entries of enabled accounts of `host` that match every prefix of `query`. */
  private matching(host: string, query: DirectoryQuery): MatchQuery {
    let matches = this.db
      .selectFrom('directory_entries as e')
      .innerJoin('accounts as a', (join) => join.onRef('a.host', '=', 'e.host').onRef('a.username', '=', 'e.username'))
      .where('e.host', '=', host)
      .where('a.disabled', '=', 0);

    for (const [field, prefixes] of Object.entries(query) as [DirectoryField, string[]][]) {
      for (const prefix of prefixes) {
        const withPrefix = this.db
          .selectFrom('directory_terms')
          .select('username')
          .where('host', '=', host)
          .where('field', '=', field)
          .where('term', '>=', prefix)
          .where('term', '<', prefix + MAX_CHAR);
        matches = matches.where('e.username', 'in', withPrefix);
      }
    }
    return matches;
  }

  /** Runs `work` in the repository's transaction when it has one, otherwise in a new one. */
  private async inTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this.db);
    return this.db.transaction().execute((trx) => work(trx));
  }
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type MatchQuery = SelectQueryBuilder<Database & { e: Database['directory_entries']; a: Database['accounts'] }, 'e' | 'a', {}>;

function termRows(host: string, username: string, terms: DirectoryTerms): Database['directory_terms'][] {
  const rows: Database['directory_terms'][] = [];
  for (const [field, values] of Object.entries(terms) as [DirectoryField, Iterable<string>][]) {
    for (const term of new Set(values)) {
      if (term !== '') rows.push({ host, field, term, username });
    }
  }
  return rows;
}

function toEntry(row: Selectable<DirectoryEntriesTable>): DirectoryEntry {
  return {
    host: row.host,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    title: row.title,
    departmentId: row.department_id,
    departmentName: row.department_name,
  };
}
