import { describe, expect, it } from 'vitest';

import { type ImportFormat, type ImportRow, MAX_LINE_BYTES, parseImport, rowsFromJsonArray, splitCsvRecord } from './import-parse.js';

async function parse(chunks: Array<string | Buffer>, format: ImportFormat): Promise<ImportRow[]> {
  const rows: ImportRow[] = [];
  for await (const row of parseImport(chunks, format)) rows.push(row);
  return rows;
}

describe('splitCsvRecord', () => {
  it('splits plain and quoted fields', () => {
    expect(splitCsvRecord('a,"b,c","d ""e"""')).toEqual(['a', 'b,c', 'd "e"']);
    expect(splitCsvRecord(',,')).toEqual(['', '', '']);
  });

  it('reports an open quote', () => {
    expect(splitCsvRecord('a,"b')).toBe('open');
  });

  it('rejects stray quotes', () => {
    expect(splitCsvRecord('a,b"c')).toMatch(/quote inside an unquoted field at column 4/);
    expect(splitCsvRecord('"a"b,c')).toMatch(/after a closing quote at column 4/);
  });
});

describe('parseImport CSV', () => {
  it('maps columns to account input', async () => {
    const csv = 'external_id,username,display_name,groups,disabled,password_hash\r\nE1,alice,"Alice, A.",dev; ops ;,yes,\r\n';
    expect(await parse([csv], 'csv')).toEqual([
      { line: 2, input: { externalId: 'E1', username: 'alice', displayName: 'Alice, A.', groups: ['dev', 'ops'], disabled: true } },
    ]);
  });

  it('skips a BOM and blank lines and keeps line numbers', async () => {
    const csv = '\uFEFFusername,title\n\nbob,Engineer\n\ncarol,\n';
    expect(await parse([csv], 'csv')).toEqual([
      { line: 3, input: { username: 'bob', title: 'Engineer' } },
      { line: 5, input: { username: 'carol' } },
    ]);
  });

  it('reads a quoted field across lines and chunks', async () => {
    const rows = await parse(['username,title\ndave,"line one\n', 'line two"\nerin,', 'x\n'], 'csv');
    expect(rows).toEqual([
      { line: 2, input: { username: 'dave', title: 'line one\nline two' } },
      { line: 4, input: { username: 'erin', title: 'x' } },
    ]);
  });

  it('reports bad records and continues', async () => {
    const rows = await parse(['username,disabled\nfrank,maybe\ngina\nhal,"no\nivan,false\n'], 'csv');
    expect(rows).toEqual([
      { line: 2, error: { field: 'disabled', detail: '"maybe" is not a boolean; use true or false.' } },
      { line: 3, error: { field: null, detail: 'The record has 1 fields; the header has 2.' } },
      { line: 4, error: { field: null, detail: 'Invalid CSV: a quoted field is not closed before the end of the file.' } },
    ]);
  });

  it('stops at an unknown header column', async () => {
    const rows = await parse(['username,colour\nalice,red\n'], 'csv');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 1, error: { field: 'colour' } });
  });

  it('stops at a repeated header column', async () => {
    const rows = await parse(['username,username\n'], 'csv');
    expect(rows).toEqual([{ line: 1, error: { field: 'username', detail: 'The column appears twice in the header.' } }]);
  });

  it('reports invalid UTF-8 per line', async () => {
    const rows = await parse([Buffer.concat([Buffer.from('username\nok\n'), Buffer.from([0x62, 0xff, 0x0a]), Buffer.from('fine\n')])], 'csv');
    expect(rows).toEqual([
      { line: 2, input: { username: 'ok' } },
      { line: 3, error: { field: null, detail: 'The line is not valid UTF-8.' } },
      { line: 4, input: { username: 'fine' } },
    ]);
  });

  it('reports an overlong line without keeping it', async () => {
    const long = 'x'.repeat(MAX_LINE_BYTES + 10);
    const rows = await parse(['username\n', long.slice(0, 600_000), long.slice(600_000), '\nzoe\n'], 'csv');
    expect(rows).toEqual([
      { line: 2, error: { field: null, detail: `The line is longer than ${MAX_LINE_BYTES} bytes.` } },
      { line: 3, input: { username: 'zoe' } },
    ]);
  });
});

describe('parseImport JSON lines', () => {
  it('keeps JSON types and nulls', async () => {
    const rows = await parse(['{"username":"a","groups":["g"],"disabled":false,"email":null}\n{"external_id":"E2"}'], 'jsonl');
    expect(rows).toEqual([
      { line: 1, input: { username: 'a', groups: ['g'], disabled: false, email: null } },
      { line: 2, input: { externalId: 'E2' } },
    ]);
  });

  it('reports invalid JSON, non-objects and unknown fields', async () => {
    const rows = await parse(['{"username":\n[1]\n{"colour":"red"}\n'], 'jsonl');
    expect(rows[0]).toMatchObject({ line: 1, error: { field: null, detail: expect.stringMatching(/^Invalid JSON/) } });
    expect(rows[1]).toEqual({ line: 2, error: { field: null, detail: 'Each row must be a JSON object.' } });
    expect(rows[2]).toMatchObject({ line: 3, error: { field: 'colour' } });
  });
});

describe('rowsFromJsonArray', () => {
  it('numbers elements from 1', () => {
    expect(rowsFromJsonArray([{ username: 'a' }, 'x'])).toEqual([
      { line: 1, input: { username: 'a' } },
      { line: 2, error: { field: null, detail: 'Each row must be a JSON object.' } },
    ]);
  });
});
