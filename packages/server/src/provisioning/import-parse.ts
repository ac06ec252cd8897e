import type { AccountInput } from './account-input.js';

/** File formats `parleyctl import` and `POST /api/v1/accounts:import` read. */
export type ImportFormat = 'csv' | 'jsonl';

/** A row error: `field` is the column at fault, or null when the row as a whole is unreadable. */
export interface ImportRowError {
  field: string | null;
  detail: string;
}

/** One record of an import file: its input for upsertAccount, or the reason it cannot have one. */
export interface ImportRow {
  /** Line where the record starts (1-based); the element number for a JSON array. */
  line: number;
  input?: AccountInput;
  error?: ImportRowError;
}

/** Columns an import row may have: the admin API's field names. */
export const IMPORT_COLUMNS = [
  'external_id',
  'username',
  'display_name',
  'email',
  'phone',
  'department',
  'department_name',
  'title',
  'groups',
  'password',
  'password_hash',
  'disabled',
] as const;

type ImportColumn = (typeof IMPORT_COLUMNS)[number];

const TEXT_COLUMNS: ReadonlyArray<[ImportColumn, keyof AccountInput]> = [
  ['external_id', 'externalId'],
  ['username', 'username'],
  ['display_name', 'displayName'],
  ['email', 'email'],
  ['phone', 'phone'],
  ['department', 'department'],
  ['department_name', 'departmentName'],
  ['title', 'title'],
  ['password', 'password'],
  ['password_hash', 'passwordHash'],
];

/** Maximum line length, in bytes; a longer line is reported and skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** A line of the source, decoded, or the reason it could not be. */
interface SourceLine {
  number: number;
  text?: string;
  error?: string;
}

/**
 * Reads import rows from a byte stream, one line at a time, so a file of any length uses
 * memory for one record only. A UTF-8 byte order mark is skipped, blank lines are ignored.
 * CSV needs a header row naming IMPORT_COLUMNS; a header with an unknown or repeated
 * column yields one error row for line 1 and nothing else.
 */
export async function* parseImport(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, format: ImportFormat): AsyncGenerator<ImportRow> {
  const lines = readLines(source);
  if (format === 'jsonl') yield* parseJsonLines(lines);
  else yield* parseCsv(lines);
}

/** Converts the elements of a JSON array body into import rows, numbered from 1. */
export function rowsFromJsonArray(items: unknown[]): ImportRow[] {
  return items.map((item, index) => jsonRecordToRow(index + 1, item));
}

async function* parseJsonLines(lines: AsyncIterable<SourceLine>): AsyncGenerator<ImportRow> {
  for await (const line of lines) {
    if (line.error !== undefined) {
      yield { line: line.number, error: { field: null, detail: line.error } };
      continue;
    }
    if (line.text === undefined || line.text.trim() === '') continue;

    let record: unknown;
    try {
      record = JSON.parse(line.text);
    } catch (error) {
      yield { line: line.number, error: { field: null, detail: `Invalid JSON: ${(error as Error).message}` } };
      continue;
    }
    yield jsonRecordToRow(line.number, record);
  }
}

function jsonRecordToRow(line: number, record: unknown): ImportRow {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { line, error: { field: null, detail: 'Each row must be a JSON object.' } };
  }

  const values = record as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!(IMPORT_COLUMNS as readonly string[]).includes(key)) return { line, error: { field: key, detail: `Unknown field; allowed are ${IMPORT_COLUMNS.join(', ')}.` } };
  }

  const input: Record<string, unknown> = {};
  for (const [column, key] of TEXT_COLUMNS) {
    if (values[column] !== undefined) input[key] = values[column];
  }
  if (values.groups !== undefined) input.groups = values.groups;
  if (values.disabled !== undefined) input.disabled = values.disabled;
  return { line, input: input as AccountInput };
}

async function* parseCsv(lines: AsyncIterable<SourceLine>): AsyncGenerator<ImportRow> {
  let header: ImportColumn[] | undefined;
  let pending: { number: number; text: string } | undefined;

  for await (const line of lines) {
    if (line.error !== undefined) {
      if (header === undefined) {
        yield { line: line.number, error: { field: null, detail: line.error } };
        return;
      }
      pending = undefined;
      yield { line: line.number, error: { field: null, detail: line.error } };
      continue;
    }

    const text = pending === undefined ? (line.text ?? '') : `${pending.text}\n${line.text ?? ''}`;
    const start = pending?.number ?? line.number;
    if (pending === undefined && text.trim() === '') continue;
    if (text.length > MAX_LINE_BYTES) {
      pending = undefined;
      yield { line: start, error: { field: null, detail: `The record is longer than ${MAX_LINE_BYTES} bytes.` } };
      continue;
    }

    const fields = splitCsvRecord(text);
    if (fields === 'open') {
      pending = { number: start, text };
      continue;
    }
    pending = undefined;

    if (header === undefined) {
      const checked = typeof fields === 'string' ? { field: null, detail: `Invalid CSV header: ${fields}` } : checkHeader(fields);
      if (!Array.isArray(checked)) {
        yield { line: start, error: checked };
        return;
      }
      header = checked;
      continue;
    }

    if (typeof fields === 'string') yield { line: start, error: { field: null, detail: `Invalid CSV: ${fields}` } };
    else yield csvRecordToRow(start, header, fields);
  }

  if (pending !== undefined) yield { line: pending.number, error: { field: null, detail: 'Invalid CSV: a quoted field is not closed before the end of the file.' } };
}

/** Returns the columns, or an error naming the first column that is unknown or repeated. */
function checkHeader(fields: string[]): ImportColumn[] | ImportRowError {
  const seen = new Set<string>();
  for (const field of fields) {
    const name = field.trim();
    if (seen.has(name)) return { field: name, detail: 'The column appears twice in the header.' };
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) return { field: name, detail: `Unknown column; allowed are ${IMPORT_COLUMNS.join(', ')}.` };
    seen.add(name);
  }
  return [...seen] as ImportColumn[];
}

/**
 * Turns a CSV record into input. An empty cell leaves the field as it is; CSV cannot
 * clear a field (JSON lines can, with null). `groups` is a `;`-separated list and
 * `disabled` is true/false, yes/no or 1/0.
 */
function csvRecordToRow(line: number, header: ImportColumn[], fields: string[]): ImportRow {
  if (fields.length !== header.length) {
    return { line, error: { field: null, detail: `The record has ${fields.length} fields; the header has ${header.length}.` } };
  }

  const input: Record<string, unknown> = {};
  for (const [index, column] of header.entries()) {
    const value = fields[index] ?? '';
    if (value === '') continue;
    if (column === 'groups') input.groups = value.split(';').map((id) => id.trim()).filter((id) => id !== '');
    else if (column === 'disabled') {
      const flag = parseFlag(value);
      if (flag === undefined) return { line, error: { field: 'disabled', detail: `"${value}" is not a boolean; use true or false.` } };
      input.disabled = flag;
    } else {
      const key = TEXT_COLUMNS.find(([name]) => name === column)?.[1];
      if (key !== undefined) input[key] = value;
    }
  }
  return { line, input: input as AccountInput };
}

function parseFlag(value: string): boolean | undefined {
  const normalized = value.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(normalized)) return true;
  if (['false', 'no', '0'].includes(normalized)) return false;
  return undefined;
}

/**
 * Splits one CSV record (RFC 4180: comma separators, fields in double quotes may contain
 * commas, line breaks and doubled quotes). Returns 'open' when a quoted field continues on
 * the next line, or an error message.
 */
export function splitCsvRecord(text: string): string[] | 'open' | string {
  const fields: string[] = [];
  let field = '';
  let index = 0;
  let quoted = false;

  while (index < text.length) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 2;
        continue;
      }
      if (char === '"') {
        quoted = false;
        index++;
        const next = text[index];
        if (next !== undefined && next !== ',') return `unexpected character after a closing quote at column ${index + 1}.`;
        continue;
      }
      field += char;
      index++;
      continue;
    }

    if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '"') {
      if (field !== '') return `a quote inside an unquoted field at column ${index + 1}.`;
      quoted = true;
    } else {
      field += char;
    }
    index++;
  }

  if (quoted) return 'open';
  fields.push(field);
  return fields;
}

// Only the first line may start with a byte order mark, so only its decoder drops one.
const UTF8_FIRST_LINE = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Splits bytes into lines (LF or CRLF), decoding each as strict UTF-8. */
async function* readLines(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<SourceLine> {
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let tooLong = false;
  let number = 0;

  for await (const chunk of source) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let newline = bytes.indexOf(0x0a);
    while (newline !== -1) {
      number++;
      const tail = bytes.subarray(0, newline);
      yield tooLong || bufferedBytes + tail.length > MAX_LINE_BYTES ? longLine(number) : decodeLine(number, Buffer.concat([...buffered, tail]));
      buffered = [];
      bufferedBytes = 0;
      tooLong = false;
      bytes = bytes.subarray(newline + 1);
      newline = bytes.indexOf(0x0a);
    }

    if (tooLong || bufferedBytes + bytes.length > MAX_LINE_BYTES) {
      tooLong = true;
      buffered = [];
    } else if (bytes.length > 0) {
      buffered.push(Buffer.from(bytes));
      bufferedBytes += bytes.length;
    }
  }

  if (tooLong) yield longLine(number + 1);
  else if (bufferedBytes > 0) yield decodeLine(number + 1, Buffer.concat(buffered));
}

function longLine(number: number): SourceLine {
  return { number, error: `The line is longer than ${MAX_LINE_BYTES} bytes.` };
}

function decodeLine(number: number, bytes: Buffer): SourceLine {
  const withoutCr = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
  try {
    return { number, text: (number === 1 ? UTF8_FIRST_LINE : UTF8).decode(withoutCr) };
  } catch {
    return { number, error: 'The line is not valid UTF-8.' };
  }
}
