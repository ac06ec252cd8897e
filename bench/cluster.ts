/**
 * `bench/run.ts --cluster N`: the messages scenario on one Parley node and on N cluster
 * nodes, with the same load and the same PostgreSQL. The benchmark starts PostgreSQL and
 * Redis itself, on free ports of 127.0.0.1, with their files in its temporary folder. On
 * the cluster the two members of each pair connect to different nodes, so every message
 * crosses nodes, and the columns differ only in that crossing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { startRedis } from '../test/support/redis.js';
import { type BenchPlan, benchmarkServer } from './orchestrate.js';
import type { RatioColumn, ServerReport } from './report.js';
import { type NodesOptions, prepareParleyNodes } from './servers/parley-cluster.js';
import type { ParleyOptions } from './servers/parley.js';
import { startBenchPostgres } from './servers/postgres.js';
import { trackService } from './servers/process.js';
import type { ServerSetup } from './servers/types.js';

/** Inputs of benchmarkCluster: the node count, the setup shared with the other servers, and the plan. */
export interface ClusterBench {
  nodes: number;
  /** Settings shared with the other servers, with workDir the benchmark's temporary folder. */
  setup: ServerSetup;
  parley: ParleyOptions;
  plan: BenchPlan;
}

/** Returns the ratio column of a cluster table: N nodes against one. */
export function clusterRatio(nodes: number): RatioColumn {
  return { subject: `${nodes} nodes`, heading: `${nodes} nodes ÷ 1 node` };
}

/** Measures one node, then the cluster, and returns a report for each, in that order. */
export async function benchmarkCluster(bench: ClusterBench): Promise<ServerReport[]> {
  const { workDir } = bench.setup;
  const postgres = await startBenchPostgres(workDir);
  const stopPostgres = trackService(postgres.stop);
  try {
    bench.plan.log(`PostgreSQL ${postgres.version} started`);
    const redisDir = path.join(workDir, 'redis');
    mkdirSync(redisDir);
    const redis = await startRedis(redisDir);
    const stopRedis = trackService(redis.stop);
    try {
      const shared = { postgresVersion: postgres.version };
      const oneNode = { ...shared, count: 1, database: await postgres.createDatabase('parley_one_node') };
      const cluster = { ...shared, count: bench.nodes, database: await postgres.createDatabase('parley_cluster'), redis: { ...redis, version: redisVersion() } };
      return [await measureNodes(bench, 'one-node', oneNode), await measureNodes(bench, 'cluster', cluster)];
    } finally {
      await stopRedis();
    }
  } finally {
    await stopPostgres();
  }
}

/** Runs the plan on one configuration. A configuration that cannot be measured gets a report with its error. */
async function measureNodes(bench: ClusterBench, folder: string, nodes: NodesOptions): Promise<ServerReport> {
  const label = nodes.count === 1 ? '1 node' : `${nodes.count} nodes`;
  try {
    const prepared = await prepareParleyNodes({ ...bench.setup, workDir: path.join(bench.setup.workDir, folder) }, bench.parley, nodes);
    bench.plan.log(`${label} ${prepared.version}`);
    return await benchmarkServer(prepared, bench.plan);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    bench.plan.log(`${label}: ${message}`);
    return { name: label, version: '?', notes: [], results: new Map(), error: message };
  }
}

function redisVersion(): string {
  const line = execFileSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(line)?.[1] ?? line.trim();
}
