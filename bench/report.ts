/**
 * Turns the runs of each scenario on each server into one table: the median of each
 * figure over the runs, one column per server, and Parley's ratio to the best peer.
 * Also writes that table into docs/benchmarks.md when asked.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import type { Figure, ScenarioResult } from './scenarios/types.js';

/** Everything measured on one server. */
export interface ServerReport {
  /** Column heading: the server's name, or a configuration such as "2 nodes". */
  name: string;
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
  /** Median by column, missing where the column has no value. */
  values: Map<string, number>;
}

/** The column the ratio column compares with the best of the others, and that column's heading. */
export interface RatioColumn {
  subject: string;
  heading: string;
}

/** Parley against Prosody and ejabberd. */
export const PEER_RATIO: RatioColumn = { subject: 'parley', heading: 'Parley ÷ best peer' };

/** Returns the median of the values, or NaN for none. */
export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Merges lists of labels into one that keeps the order of each: a label not seen yet goes
 * right after the label that precedes it in its own list.
 */
function mergeOrder(lists: string[][]): string[] {
  const merged: string[] = [];
  for (const list of lists) {
    let position = 0;
    for (const label of list) {
      const found = merged.indexOf(label);
      if (found === -1) merged.splice(position++, 0, label);
      else position = found + 1;
    }
  }
  return merged;
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
    const order = mergeOrder(reports.flatMap((report) => (report.results.get(scenario) ?? []).map((run) => run.figures.map((f) => f.label))));
    rows.push(...order.map((label) => byLabel.get(label)!));
  }
  return rows;
}

/** Returns the subject's value divided by the best other column's, or undefined when there is no other value or no direction. */
function ratioToBest(row: Row, subject: string): number | undefined {
  const value = row.values.get(subject);
  const others = [...row.values.entries()].filter(([name, other]) => name !== subject && Number.isFinite(other)).map(([, other]) => other);
  if (value === undefined || others.length === 0 || row.better === 'neither') return undefined;
  const best = row.better === 'higher' ? Math.max(...others) : Math.min(...others);
  return best === 0 ? undefined : value / best;
}

function formatNumber(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders the Markdown table of medians, with a ratio column when `ratio.subject` and another column are there. */
export function renderTable(reports: ServerReport[], scenarios: string[], ratio: RatioColumn = PEER_RATIO): string {
  const servers = reports.map((report) => report.name);
  const withPeers = servers.length > 1 && servers.includes(ratio.subject);
  const header = ['scenario', 'figure', ...servers, ...(withPeers ? [ratio.heading, 'better'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];

  for (const row of buildRows(reports, scenarios)) {
    const cells = [row.scenario, row.label, ...servers.map((name) => formatNumber(row.values.get(name), row.digits))];
    if (withPeers) {
      const value = ratioToBest(row, ratio.subject);
      cells.push(value === undefined ? '–' : `${value.toFixed(2)}`, row.better === 'neither' ? '–' : row.better);
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

/** HTML comments that enclose a generated part of the docs file. */
export interface SectionMarkers {
  start: string;
  end: string;
}

/** The results of a run against single servers. */
export const RESULTS_MARKERS: SectionMarkers = { start: '<!-- bench/run.ts results: start -->', end: '<!-- bench/run.ts results: end -->' };

/** The results of a `--cluster` run. */
export const CLUSTER_MARKERS: SectionMarkers = { start: '<!-- bench/run.ts --cluster results: start -->', end: '<!-- bench/run.ts --cluster results: end -->' };

/**
 * Puts `section` between the markers in the docs file, replacing what was there, or
 * appends the markers and the section at the end. Nothing outside the markers changes.
 */
export function writeResultsSection(file: string, section: string, markers: SectionMarkers = RESULTS_MARKERS): void {
  const text = readFileSync(file, 'utf8');
  const block = `${markers.start}\n${section.trim()}\n${markers.end}`;
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  const updated = start !== -1 && end > start ? text.slice(0, start) + block + text.slice(end + markers.end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, updated);
}
