/**
 * Summarises a V8 CPU profile (a .cpuprofile file from node --cpu-prof, for example from
 * `npx tsx bench/run.ts --cpu-prof DIR`): the functions with the most self time, and
 * self time by area (a folder of Parley, an npm package, Node.js internals, the GC).
 *
 * Run: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
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

function printTable(title: string, entries: Tally, totalMs: number, top: number): void {
  console.log(`\n${title}\n\n| self ms | share | ${title.startsWith('Functions') ? 'function' : 'area'} |\n| ---: | ---: | --- |`);
  for (const [name, ms] of entries.slice(0, top)) console.log(`| ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)}% | ${name} |`);
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) {
    console.error('Usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top N]');
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
}

main();
