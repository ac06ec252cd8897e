/**
 * Summarises a V8 CPU profile (a .cpuprofile file from node --cpu-prof, for example from
 * `npx tsx bench/run.ts --cpu-prof DIR`): the functions with the most self time, and
 * self time by area (a folder of Parley, an npm package, Node.js internals, the GC).
 *
 * With --callers NAME it also splits the self time of the functions called NAME by
 * their nearest caller in Parley's code, for example where the SQLite statements of
 * Kysely's executeQuery come from.
 *
 * Run: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--callers NAME]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Self time per key, in milliseconds, sorted from the largest. */
type Tally = [string, number][];

/** Returns a short name for where a function lives: a Parley folder, a package, or Node.js. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const parley = /packages\/(\w+)\/(?:dist|src)\/(?:([\w-]+)\/)?/.exec(url);
  if (parley) return `@parley/${parley[1]}${parley[2] ? `/${parley[2]}` : ''}`;
  const npmPackage = /node_modules\/((?:@[\w.-]+\/)?[\w.-]+)/.exec(url);
  if (npmPackage) return `npm: ${npmPackage[1]}`;
  return url;
}

function shortLocation(url: string, line: number): string {
  const path = url.replace(/^file:\/\//, '').replace(/^.*?(packages\/|node_modules\/)/, '$1');
  return path === '' ? '' : `${path}:${line + 1}`;
}

function tally(profile: CpuProfile, key: (node: ProfileNode) => string): { entries: Tally; totalMs: number } {
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const totals = new Map<string, number>();
  let totalMs = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * msPerSample;
    if (ms === 0 || node.callFrame.functionName === '(idle)') continue;
    totals.set(key(node), (totals.get(key(node)) ?? 0) + ms);
    totalMs += ms;
  }
  return { entries: [...totals.entries()].sort((a, b) => b[1] - a[1]), totalMs };
}

/** Self time of the functions named `name`, by the nearest enclosing frame in Parley's packages. */
function tallyCallers(profile: CpuProfile, name: string): { entries: Tally; totalMs: number } {
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);

  const totals = new Map<string, number>();
  let totalMs = 0;
  for (const node of profile.nodes) {
    if (node.callFrame.functionName !== name || !node.hitCount) continue;
    let caller = parents.get(node.id);
    while (caller && !/packages\/\w+\/(dist|src)\//.test(caller.callFrame.url)) caller = parents.get(caller.id);
    const key = caller ? `${caller.callFrame.functionName || '(anonymous)'} ${shortLocation(caller.callFrame.url, caller.callFrame.lineNumber)}` : '(no Parley caller)';
    const ms = node.hitCount * msPerSample;
    totals.set(key, (totals.get(key) ?? 0) + ms);
    totalMs += ms;
  }
  return { entries: [...totals.entries()].sort((a, b) => b[1] - a[1]), totalMs };
}

function printTable(title: string, entries: Tally, totalMs: number, top: number): void {
  console.log(`\n${title}\n\n| self ms | share | ${title.startsWith('Functions') ? 'function' : 'area'} |\n| ---: | ---: | --- |`);
  for (const [name, ms] of entries.slice(0, top)) console.log(`| ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)}% | ${name} |`);
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' }, callers: { type: 'string' } }, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) {
    console.error('Usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--callers NAME]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const top = Number(values.top);

  const byFunction = tally(profile, ({ callFrame }) => `${callFrame.functionName || '(anonymous)'} ${shortLocation(callFrame.url, callFrame.lineNumber)}`.trim());
  const byArea = tally(profile, ({ callFrame }) => areaOf(callFrame.url, callFrame.functionName));
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  console.log(`${file}: ${wallMs.toFixed(0)} ms profiled, ${byFunction.totalMs.toFixed(0)} ms of it busy (idle excluded)`);
  printTable('Areas by self time', byArea.entries, byArea.totalMs, top);
  printTable('Functions by self time', byFunction.entries, byFunction.totalMs, top);
  if (values.callers !== undefined) {
    const callers = tallyCallers(profile, values.callers);
    const share = ((100 * callers.totalMs) / byFunction.totalMs).toFixed(1);
    console.log(`\n${values.callers}: ${callers.totalMs.toFixed(0)} ms self time, ${share}% of the busy time; shares below are of that`);
    printTable(`Functions by self time of ${values.callers}, by nearest Parley caller`, callers.entries, callers.totalMs, top);
  }
}

main();
