/**
 * Loads the benchmark archive into ejabberd's Mnesia storage, with ejabberd stopped:
 * writes the messages as tab-separated lines, then runs ejabberd_archive.erl, which
 * inserts them into the dets file of the archive_msg table in batches.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ARCHIVE_RESOURCE, type ArchiveSpec, archiveItem } from './archive-data.js';

const LOADER_SOURCE = fileURLToPath(new URL('./ejabberd_archive.erl', import.meta.url));
const LINES_PER_WRITE = 10_000;

/** Writes spec.count messages into the owner's archive, or as many as fit before `deadline`; returns how many. */
export function fillEjabberdArchive(workDir: string, spoolDir: string, spec: ArchiveSpec, deadline: number): number {
  const input = path.join(workDir, 'archive-input.tsv');
  writeInput(input, spec, deadline);
  execFileSync('erlc', ['-o', workDir, LOADER_SOURCE], { cwd: workDir, stdio: ['ignore', 'ignore', 'inherit'] });
  const args = [path.join(spoolDir, 'archive_msg.DAT'), input, spec.owner, spec.domain, ARCHIVE_RESOURCE, String(deadline)];
  const output = execFileSync('erl', ['-noshell', '-pa', workDir, '-run', 'ejabberd_archive', 'main', ...args], {
    cwd: workDir,
    encoding: 'utf8',
    timeout: Math.max(10_000, deadline - Date.now() + 60_000),
  });
  rmSync(input, { force: true });
  const loaded = /loaded (\d+)/.exec(output);
  if (!loaded) throw new Error(`the ejabberd archive loader printed no count: ${output.slice(0, 200)}`);
  return Number(loaded[1]);
}

/** Writes one line per message: time in ms, direction, partner, id, body. */
function writeInput(file: string, spec: ArchiveSpec, deadline: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let start = 0; start < spec.count && Date.now() < deadline; start += LINES_PER_WRITE) {
      const lines: string[] = [];
      for (let index = start; index < Math.min(spec.count, start + LINES_PER_WRITE); index++) {
        const item = archiveItem(spec, index);
        const partner = item.partner.slice(0, item.partner.indexOf('@'));
        lines.push(`${item.time}\t${item.outgoing ? 'out' : 'in'}\t${partner}\t${item.id}\t${item.body}\n`);
      }
      writeSync(fd, lines.join(''));
    }
  } finally {
    closeSync(fd);
  }
}
