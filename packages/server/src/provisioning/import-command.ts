import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

import pino from 'pino';

import type { Config } from '../config.js';
import { ServerNotRunningError, connectControl, controlImport } from '../control-client.js';
import { controlSocketPath } from '../core/control-socket.js';
import type { Storage } from '../storage/index.js';
import { type ImportFormat, parseImport } from './import-parse.js';
import { type ImportRowJson, type ImportReportJson, rowToJson } from './import-report.js';
import { importAccounts } from './import.js';
import { outboxHooks } from './outbox.js';

/** Options of `parleyctl import`. */
export interface ImportCommandOptions {
  format?: string;
  /** File that receives the full report as JSON. */
  report?: string;
}

/** Opens the database for work without a running server. */
export type WithStorage = <T>(work: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

/** Failed rows printed at most; the report file lists all of them. */
const MAX_PRINTED_FAILURES = 1000;

/**
 * Runs `parleyctl import FILE`. With a server running, the file goes to it over the
 * control socket and its modules see each change at once. Without one, the rows are
 * written to the database here and their account events wait in the outbox for the next
 * start. Writes the summary and the failed rows to `out` and returns the report.
 */
export async function runImportCommand(config: Config, withStorage: WithStorage, file: string, options: ImportCommandOptions, out: (line: string) => void): Promise<{ report: ImportReportJson; direct: boolean }> {
  const format = importFormat(file, options.format);
  // Opened before the server is asked, so a missing or unreadable file fails here, with parleyctl's permissions.
  const handle = await open(file);
  const started = performance.now();
  let report: ImportReportJson;
  let direct = false;
  try {
    report = await importThroughServer(config, format, () => handle.createReadStream({ autoClose: false }));
  } catch (err) {
    if (!(err instanceof ServerNotRunningError)) throw err;
    direct = true;
    report = await withStorage((storage) => importDirectly(storage, config, format, handle.createReadStream({ autoClose: false })));
  } finally {
    await handle.close();
  }
  const seconds = (performance.now() - started) / 1000;

  out(`${report.total} rows in ${seconds.toFixed(1)} s: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed`);
  printFailures(report.rows, out);
  if (options.report !== undefined) await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
  return { report, direct };
}

async function importThroughServer(config: Config, format: ImportFormat, source: () => Readable): Promise<ImportReportJson> {
  const connection = await connectControl(controlSocketPath(config.data_dir));
  const rows: ImportRowJson[] = [];
  try {
    const counts = await controlImport(connection, format, source(), (batch) => rows.push(...(batch as ImportRowJson[])));
    return { total: Number(counts.total), created: Number(counts.created), updated: Number(counts.updated), unchanged: Number(counts.unchanged), failed: Number(counts.failed), rows };
  } finally {
    connection.destroy();
  }
}

async function importDirectly(storage: Storage, config: Config, format: ImportFormat, source: Readable): Promise<ImportReportJson> {
  // Logs go to standard error, so standard output carries only the summary and the failed rows.
  const log = pino({ level: 'warn', redact: { paths: ['password', '*.password'], censor: '[redacted]' } }, pino.destination(2));
  const report = await importAccounts({ config, storage, hooks: outboxHooks(storage, log) }, parseImport(source, format), { log });
  return { ...report, rows: report.rows.map(rowToJson) };
}

function printFailures(rows: ImportRowJson[], out: (line: string) => void): void {
  const failures = rows.filter((row) => row.status === 'failed');
  for (const row of failures.slice(0, MAX_PRINTED_FAILURES)) {
    out(`line ${row.line}${row.error?.field ? ` (${row.error.field})` : ''}: ${row.error?.detail ?? 'failed'}`);
  }
  if (failures.length > MAX_PRINTED_FAILURES) out(`... and ${failures.length - MAX_PRINTED_FAILURES} more failed rows; see the report file`);
}

function importFormat(file: string, format: string | undefined): ImportFormat {
  if (format === 'csv' || format === 'jsonl') return format;
  if (format !== undefined) throw new Error(`unknown format "${format}": use csv or jsonl`);

  const extension = path.extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  throw new Error(`cannot tell the format of ${file} from its extension; give --format csv or --format jsonl`);
}
