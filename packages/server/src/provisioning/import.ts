import { ApiProblem } from '../admin/problem.js';
import type { AccountInput } from './account-input.js';
import { type ProvisioningContext, type UpsertResult, upsertAccount } from './accounts-service.js';
import type { ImportRow, ImportRowError } from './import-parse.js';

export type ImportStatus = 'created' | 'updated' | 'unchanged' | 'failed';

/** The outcome of one row. */
export interface ImportRowReport {
  line: number;
  externalId: string | null;
  username: string | null;
  status: ImportStatus;
  error?: ImportRowError;
}

export interface ImportReport {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  rows: ImportRowReport[];
}

export interface ImportOptions {
  /** Rows read ahead and written before the next are read (default 200). */
  batchSize?: number;
  /** Rows of one batch written at the same time (default 4); rows for one account stay in order. */
  concurrency?: number;
  /** Logs errors that are not the row's fault; their detail stays out of the report. */
  log?: { error(details: object, message: string): void };
  /** Receives the rows of each batch once it is written, in line order. */
  onRows?: (rows: ImportRowReport[]) => void | Promise<void>;
  /** Whether the returned report lists every row (default true); false keeps only the counts. */
  keepRows?: boolean;
}

/** Input keys of AccountInput and the import column each comes from. */
const COLUMN_OF_FIELD: Record<string, string> = {
  externalId: 'external_id',
  displayName: 'display_name',
  departmentName: 'department_name',
  passwordHash: 'password_hash',
};

/**
 * Upserts each row through upsertAccount, matching by external id when a row has one,
 * else by username. A row is written whole or not at all: upsertAccount validates every
 * field first and writes in one transaction. Rows are read in batches, so a streamed
 * file is never held in memory whole; only the report grows with it.
 */
export async function importAccounts(server: ProvisioningContext, rows: AsyncIterable<ImportRow> | Iterable<ImportRow>, options: ImportOptions = {}): Promise<ImportReport> {
  const batchSize = options.batchSize ?? 200;
  const report: ImportReport = { total: 0, created: 0, updated: 0, unchanged: 0, failed: 0, rows: [] };
  let batch: ImportRow[] = [];

  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= batchSize) {
      await addToReport(report, await importBatch(server, batch, options), options);
      batch = [];
    }
  }
  if (batch.length > 0) await addToReport(report, await importBatch(server, batch, options), options);
  return report;
}

async function addToReport(report: ImportReport, rows: ImportRowReport[], options: ImportOptions): Promise<void> {
  for (const row of rows) {
    report.total++;
    report[row.status]++;
    if (options.keepRows !== false) report.rows.push(row);
  }
  await options.onRows?.(rows);
}

/** Writes one batch; rows that name the same account run one after another, in file order. */
async function importBatch(server: ProvisioningContext, batch: ImportRow[], options: ImportOptions): Promise<ImportRowReport[]> {
  const chains = new Map<string, ImportRow[]>();
  for (const row of batch) {
    const key = accountKey(row);
    const chain = chains.get(key);
    if (chain === undefined) chains.set(key, [row]);
    else chain.push(row);
  }

  const queue = [...chains.values()];
  const results: ImportRowReport[] = [];
  const worker = async () => {
    for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
      for (const row of chain) results.push(await importRow(server, row, options));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return results.sort((a, b) => a.line - b.line);
}

function accountKey(row: ImportRow): string {
  const { input } = row;
  if (typeof input?.externalId === 'string') return `external:${input.externalId}`;
  if (typeof input?.username === 'string') return `username:${input.username.toLowerCase()}`;
  return `line:${row.line}`;
}

async function importRow(server: ProvisioningContext, row: ImportRow, options: ImportOptions): Promise<ImportRowReport> {
  const externalId = typeof row.input?.externalId === 'string' ? row.input.externalId : null;
  const named = typeof row.input?.username === 'string' ? row.input.username : null;
  if (row.input === undefined) {
    return { line: row.line, externalId, username: named, status: 'failed', error: row.error ?? { field: null, detail: 'The row is empty.' } };
  }

  try {
    const result = await upsertAccount(server, row.input, { match: externalId === null ? 'username' : 'externalId' });
    return { line: row.line, externalId, username: result.username, status: statusOf(result) };
  } catch (error) {
    return { line: row.line, externalId, username: named, status: 'failed', error: rowError(error, row, options) };
  }
}

function statusOf(result: UpsertResult): ImportStatus {
  if (result.created) return 'created';
  return result.changed.length > 0 ? 'updated' : 'unchanged';
}

function rowError(error: unknown, row: ImportRow, options: ImportOptions): ImportRowError {
  if (error instanceof ApiProblem && error.status < 500) {
    return { field: columnOf(error.extra.field), detail: error.detail ?? error.title };
  }
  options.log?.error({ err: error, line: row.line }, 'import row failed');
  return { field: null, detail: 'Internal error while writing the row; the server log has the details.' };
}

/** Maps an AccountInput key or JSON pointer (`groups/2`) to the import column. */
function columnOf(field: string | undefined): string | null {
  if (field === undefined) return null;
  const key = field.replace(/^\//, '').split('/')[0] as keyof AccountInput;
  return COLUMN_OF_FIELD[key] ?? key;
}
