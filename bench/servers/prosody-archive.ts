/**
 * Loads the benchmark archive into Prosody's internal file storage, with the server
 * stopped: the list file of the owner's "archive" store, one `item{...}` line per message,
 * in the form mod_storage_internal appends (a preserialized stanza with key, when and with).
 */
import { mkdirSync, openSync, closeSync, writeSync } from 'node:fs';
import path from 'node:path';

import { type ArchiveSpec, archiveItem } from './archive-data.js';

const ITEMS_PER_WRITE = 10_000;

/** Prosody's file name encoding (util.datamanager): every non-alphanumeric byte becomes %xx. */
function encodeName(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Quotes a value as a Lua string literal, escaping control characters, quotes and backslashes as \ddd. */
function lua(value: string): string {
  let literal = '"';
  for (const char of value) {
    const code = char.charCodeAt(0);
    literal += code < 0x20 || char === '"' || char === '\\' ? `\\${code.toString().padStart(3, '0')}` : char;
  }
  return `${literal}"`;
}

function itemLine(spec: ArchiveSpec, index: number): string {
  const item = archiveItem(spec, index);
  const stamp = new Date(item.time).toISOString().replace('.000Z', 'Z');
  const attr = `{from=${lua(item.from)};to=${lua(item.to)};type="chat";id=${lua(item.id)};stamp=${lua(stamp)}}`;
  const body = `{name="body";attr={};${lua(item.body)}}`;
  return `item({name="message";attr=${attr};key=${lua(`k${index}`)};when=${item.time / 1000};with=${lua(item.partner)};${body}});\n`;
}

/** Writes spec.count messages into the owner's archive file, or as many as fit before `deadline`; returns how many. */
export function fillProsodyArchive(dataDir: string, spec: ArchiveSpec, deadline: number): number {
  const folder = path.join(dataDir, encodeName(spec.domain), 'archive');
  mkdirSync(folder, { recursive: true });
  const fd = openSync(path.join(folder, `${encodeName(spec.owner)}.list`), 'w');
  let loaded = 0;
  try {
    while (loaded < spec.count && Date.now() < deadline) {
      const next = Math.min(spec.count, loaded + ITEMS_PER_WRITE);
      const lines: string[] = [];
      for (let index = loaded; index < next; index++) lines.push(itemLine(spec, index));
      writeSync(fd, lines.join(''));
      loaded = next;
    }
  } finally {
    closeSync(fd);
  }
  return loaded;
}
