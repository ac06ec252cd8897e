/** Bulk import of accounts: `POST /accounts:import`. */
import { Readable } from 'node:stream';

import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { ServerContext } from '../../core/context.js';
import { type ImportFormat, type ImportRow, parseImport, rowsFromJsonArray } from '../../provisioning/import-parse.js';
import { importAccounts } from '../../provisioning/import.js';
import { reportToJson } from '../../provisioning/import-report.js';
import { ApiProblem, invalidField } from '../problem.js';

/** Maximum import body, in bytes: about 200,000 rows of 300 bytes. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

const CSV_TYPES = ['text/csv'];
const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl'];

const RowError = Type.Object({
  field: Type.Union([Type.String(), Type.Null()], { description: 'column at fault, or null when the row as a whole is unreadable' }),
  detail: Type.String(),
});

const ImportReportSchema = Type.Object({
  total: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  failed: Type.Integer(),
  rows: Type.Array(
    Type.Object({
      line: Type.Integer({ description: 'line where the row starts in the file, or the element number of a JSON array (from 1)' }),
      external_id: Type.Union([Type.String(), Type.Null()]),
      username: Type.Union([Type.String(), Type.Null()]),
      status: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged'), Type.Literal('failed')]),
      error: Type.Optional(RowError),
    }),
  ),
});

const DESCRIPTION = [
  'Creates or updates accounts from CSV (text/csv, with a header row), JSON lines (application/x-ndjson) or a JSON array',
  '(application/json). Columns are the account fields in snake_case: external_id, username, display_name, email, phone,',
  'department, department_name, title, groups (";"-separated in CSV), password, password_hash, disabled. Rows with an',
  'external_id match by it, others by username. Each row is written whole or not at all; bad rows are reported with',
  'their line and field and skipped, so the response is 200 even when rows failed.',
].join(' ');

export async function importRoutes(app: FastifyInstance, opts: { server: ServerContext }): Promise<void> {
  const { server } = opts;

  app.addContentTypeParser([...CSV_TYPES, ...JSON_LINES_TYPES], { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_request, body, done) => {
    done(null, body);
  });

  app.post(
    '/accounts::import',
    {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        summary: 'Import accounts in bulk',
        description: DESCRIPTION,
        tags: ['accounts'],
        consumes: ['application/json', ...CSV_TYPES, ...JSON_LINES_TYPES],
        response: { 200: ImportReportSchema },
      } as object,
    },
    async (request) => {
      const report = await importAccounts(server, importRows(request), { log: server.log.child({ component: 'import' }) });
      return reportToJson(report);
    },
  );
}

function importRows(request: FastifyRequest): Iterable<ImportRow> | AsyncIterable<ImportRow> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    if (!Array.isArray(request.body)) throw invalidField('', 'A JSON body must be an array of account objects.');
    return rowsFromJsonArray(request.body);
  }

  const format: ImportFormat | undefined = CSV_TYPES.includes(type) ? 'csv' : JSON_LINES_TYPES.includes(type) ? 'jsonl' : undefined;
  if (format === undefined || !Buffer.isBuffer(request.body)) {
    throw new ApiProblem(415, 'Unsupported Media Type', 'Send text/csv, application/x-ndjson or a JSON array as application/json.');
  }
  return parseImport(Readable.from([request.body]), format);
}
