/** The JSON form of an import report, shared by `POST /api/v1/accounts:import` and `parleyctl import --report`. */
import type { ImportRowError } from './import-parse.js';
import type { ImportReport, ImportRowReport, ImportStatus } from './import.js';

/** One row of the report, with the API's snake_case names. */
export interface ImportRowJson {
  line: number;
  external_id: string | null;
  username: string | null;
  status: ImportStatus;
  error?: ImportRowError;
}

export interface ImportReportJson {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  rows: ImportRowJson[];
}

export function rowToJson(row: ImportRowReport): ImportRowJson {
  const json: ImportRowJson = { line: row.line, external_id: row.externalId, username: row.username, status: row.status };
  if (row.error !== undefined) json.error = row.error;
  return json;
}

export function reportToJson(report: ImportReport): ImportReportJson {
  return { ...report, rows: report.rows.map(rowToJson) };
}
