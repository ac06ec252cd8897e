/**
 * Turns the runs of each scenario on each server into one table: the median of each
 * figure over the runs, one column per server, and Parley's ratio to the best peer.
 * Also writes that table into docs/benchmarks.md when asked.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import type { Figure, ScenarioResult } from './scenarios/types.js';
import type { ServerName } from './servers/types.js';

/** Everything measured on one server. */
export interface ServerReport {
  name: ServerName;
  version: string;
  notes: string[];
  /** Results of each run, by scenario name. */
  results: Map<string, ScenarioResult[]>;
  /** Reason the server could not be measured, if any. */
  error?: string;
}

/** One row of the table. */
interface Row {
  scenario: string;
  label: string;
  better: Figure['better'];
  digits: number;
  /** Median by server; undefined where the server has no value. */
  values: Map<ServerName, number>;
}

/** Returns the median of the values, or NaN for none. */
export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Builds the rows: for each scenario and figure, the median over the runs on each server. */
function buildRows(reports: ServerReport[], scenarios: string[]): Row[] {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const byLabel = new Map<string, Row>();
    for (const report of reports) {
      const runs = report.results.get(scenario) ?? [];
      const labels = new Set(runs.flatMap((run) => run.figures.map((f) => f.label)));
      for (const label of labels) {
        const samples = runs.flatMap((run) => run.figures.filter((f) => f.label === label));
        const first = samples[0]!;
        const row = byLabel.get(label) ?? { scenario, label, better: first.better, digits: first.digits, values: new Map() };
        row.values.set(report.name, median(samples.map((f) => f.value)));
        byLabel.set(label, row);
      }
    }
    rows.push(...byLabel.values());
  }
  return rows;
}

/** Parley's value divided by the best peer's, or undefined when there is no peer value or no direction. */
function ratioToBestPeer(row: Row): number | undefined {
  const parley = row.values.get('parley');
  const peers = [...row.values.entries()].filter(([name, value]) => name !== 'parley' && Number.isFinite(value)).map(([, value]) => value);
  if (parley === undefined || peers.length === 0 || row.better === 'neither') return undefined;
  const best = row.better === 'higher' ? Math.max(...peers) : Math.min(...peers);
  return best === 0 ? undefined : parley / best;
}

function formatNumber(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders the Markdown table of medians. */
export function renderTable(reports: ServerReport[], scenarios: string[]): string {
  const servers = reports.map((report) => report.name);
  const withPeers = servers.length > 1 && servers.includes('parley');
  const header = ['scenario', 'figure', ...servers, ...(withPeers ? ['Parley ÷ best peer', 'better'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];

  for (const row of buildRows(reports, scenarios)) {
    const cells = [row.scenario, row.label, ...servers.map((name) => formatNumber(row.values.get(name), row.digits))];
    if (withPeers) {
      const ratio = ratioToBestPeer(row);
      cells.push(ratio === undefined ? '–' : `${ratio.toFixed(2)}`, row.better === 'neither' ? '–' : row.better);
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Renders the notes under the table: versions, configurations, errors and remarks. */
export function renderNotes(reports: ServerReport[]): string[] {
  const notes: string[] = [];
  for (const report of reports) {
    notes.push(`${report.name} ${report.version}`);
    notes.push(...report.notes);
    if (report.error) notes.push(`${report.name} could not be measured: ${report.error}`);
    for (const [scenario, runs] of report.results) {
      const remarks = new Set(runs.flatMap((run) => run.remarks));
      for (const remark of remarks) notes.push(`${report.name}, ${scenario}: ${remark}`);
    }
  }
  return notes;
}

const START_MARKER = '<!-- bench/run.ts results: start -->';
const END_MARKER = '<!-- bench/run.ts results: end -->';

/**
 * Puts `section` between the result markers of the docs file, replacing what was there,
 * or appends the markers and the section at the end. Nothing outside the markers changes.
 */
export function writeResultsSection(file: string, section: string): void {
  const text = readFileSync(file, 'utf8');
  const block = `${START_MARKER}\n${section.trim()}\n${END_MARKER}`;
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  const updated = start !== -1 && end > start ? text.slice(0, start) + block + text.slice(end + END_MARKER.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, updated);
}
