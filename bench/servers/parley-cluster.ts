/**
 * Parley on PostgreSQL for `bench/run.ts --cluster`: one node without [cluster], or N
 * nodes with [cluster] enabled that share the database and route through Redis. Each node
 * is its own server process with its own c2s port, node_id, data folder and log file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type ParleyOptions, type ParleyProcessFiles, archiveNote, parleyConfig, parleyVersion, startParleyProcess } from './parley.js';
import type { BenchDatabase } from './postgres.js';
import { freePort, processCpuMs } from './process.js';
import type { PreparedServer, RunningServer, ServerSetup } from './types.js';

/** A Redis server that the nodes share. */
export interface ClusterRedis {
  url: string;
  pid: number;
  /** Version line for the notes. */
  version: string;
}

/** The nodes of one configuration and what they share. */
export interface NodesOptions {
  count: number;
  database: BenchDatabase;
  postgresVersion: string;
  /** The nodes' Redis, with [cluster] enabled. Without it the nodes run without [cluster]. */
  redis?: ClusterRedis;
}

/** Writes the configuration of every node under setup.workDir and returns the nodes ready to start. */
export async function prepareParleyNodes(setup: ServerSetup, options: ParleyOptions, nodes: NodesOptions): Promise<PreparedServer> {
  const stateDir = path.join(setup.workDir, 'data');
  const label = nodes.count === 1 ? '1 node' : `${nodes.count} nodes`;
  const processes: ParleyProcessFiles[] = [];
  for (let index = 1; index <= nodes.count; index++) {
    const port = await freePort();
    const dataDir = path.join(stateDir, `node-${index}`);
    mkdirSync(dataDir, { recursive: true });
    const configFile = path.join(setup.workDir, `node-${index}.toml`);
    writeFileSync(configFile, parleyConfig(setup, port, dataDir, nodeSections(index, nodes)));
    processes.push({ configFile, port, logFile: path.join(setup.workDir, `node-${index}.log`) });
  }

  // Both configurations run the same Parley on the same PostgreSQL, so only the first one's notes name them.
  const notes = nodes.redis
    ? [`${label}: [cluster] enabled, node_id bench-node-1 to bench-node-${nodes.count}, Redis ${nodes.redis.version}; otherwise as 1 node`]
    : [
        `${label}: ${options.mode === 'dist' ? 'built server' : 'TypeScript sources'}, log level warn, PostgreSQL ${nodes.postgresVersion} with pool_size 10 per node (the default)`,
        archiveNote(options.mode),
      ];
  return {
    name: 'parley',
    label,
    version: `on Parley ${parleyVersion()}`,
    notes,
    stateDir,
    database: nodes.database.snapshots,
    start: () => startNodes(setup, options, processes, nodes.redis),
  };
}

function nodeSections(index: number, nodes: NodesOptions): string[] {
  const lines = ['[storage]', 'driver = "postgres"', `url = ${JSON.stringify(nodes.database.url)}`];
  if (!nodes.redis) return lines;
  return [...lines, '[cluster]', 'enabled = true', `node_id = "bench-node-${index}"`, `redis_url = ${JSON.stringify(nodes.redis.url)}`];
}

/** Starts every node at once. If one fails to start, stops the others and throws. */
async function startNodes(setup: ServerSetup, options: ParleyOptions, processes: ParleyProcessFiles[], redis: ClusterRedis | undefined): Promise<RunningServer> {
  const outcomes = await Promise.allSettled(processes.map((files) => startParleyProcess(setup, options, files)));
  const nodes = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failure.reason;
  }
  return nodes.length === 1 && !redis ? nodes[0]! : combineNodes(nodes, redis);
}

/** Combines the nodes into one RunningServer, whose CPU time and memory are sums over the nodes. */
function combineNodes(nodes: RunningServer[], redis: ClusterRedis | undefined): RunningServer {
  return {
    pid: nodes[0]!.pid,
    target: nodes[0]!.target,
    nodes: nodes.map((node) => node.target),
    services: redis ? [{ name: 'Redis', cpuMs: () => processCpuMs(redis.pid) }] : [],
    cpuMs: () => nodes.reduce((sum, node) => sum + node.cpuMs(), 0),
    async memory() {
      const samples = await Promise.all(nodes.map((node) => node.memory()));
      const heaps = samples.map((sample) => sample.heapUsedBytes);
      return {
        rssBytes: samples.reduce((sum, sample) => sum + sample.rssBytes, 0),
        heapUsedBytes: heaps.every((heap) => heap !== undefined) ? heaps.reduce((sum, heap) => sum + heap, 0) : undefined,
      };
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
