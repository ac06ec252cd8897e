/** Interfaces between the benchmark and each server it drives. */
import type { Target } from '../load/client.js';
import type { ArchiveContent } from './archive-data.js';

/** Names of the servers the benchmark can drive. */
export type ServerName = 'parley' | 'prosody' | 'ejabberd';

/** Memory of a server process. */
export interface MemorySample {
  /** VmRSS from /proc/PID/status. */
  rssBytes: number;
  /** V8 heap in use, for Node servers only. */
  heapUsedBytes?: number;
}

/** A process the server depends on but does not run itself, such as the Redis of a cluster. */
export interface ServiceProcess {
  /** Name in the table's row labels. */
  name: string;
  /** CPU time of the process so far, in milliseconds. */
  cpuMs(): number;
}

/** A started server: one process, or the nodes of a cluster. */
export interface RunningServer {
  /** Process id of the server, or of a cluster's first node. */
  pid: number;
  /** Endpoint that clients connect to: the server's, or a cluster's first node's. */
  target: Target;
  /** Every node's c2s endpoint, for a cluster of two or more nodes. A scenario may spread its clients over them. */
  nodes?: Target[];
  /** Processes besides the server's own whose CPU time the scenarios report. */
  services?: ServiceProcess[];
  /** Reads the process's memory now. */
  memory(): Promise<MemorySample>;
  /** CPU time of the process and its threads so far (for a cluster, of every node), in milliseconds. */
  cpuMs(): number;
  /** Stops the process (SIGTERM, then SIGKILL after a timeout). */
  stop(): Promise<void>;
}

/** Copies of a database that lives outside stateDir (PostgreSQL), saved and restored with stateDir. */
export interface DatabaseSnapshots {
  /** Saves the database as it is now under `name`, replacing an earlier copy of that name. Needs the server stopped. */
  save(name: string): Promise<void>;
  /** Replaces the database with the copy saved under `name`. Needs the server stopped. */
  restore(name: string): Promise<void>;
  /** Deletes the copy saved under `name`. */
  discard(name: string): Promise<void>;
}

/** A server with its generated configuration, ready to start any number of times on the same data. */
export interface PreparedServer {
  name: ServerName;
  /** Column heading in the table when it is not `name`, such as "2 nodes". */
  label?: string;
  /** Package or build version, for the report. */
  version: string;
  /** Facts about the configuration that a reader of the results needs. */
  notes: string[];
  /** Folder with everything the server stores, copied after registration and restored before each run. */
  stateDir: string;
  /** The server's database when it is not in stateDir, saved and restored with stateDir. */
  database?: DatabaseSnapshots;
  start(): Promise<RunningServer>;
  /**
   * Loads the archive of `content` on the server's domain into stateDir, the server stopped,
   * writing until `deadline` (Date.now()) at most; returns the messages loaded.
   */
  fillArchive?(content: ArchiveContent, deadline: number, log: (line: string) => void): Promise<number>;
}

/** Settings shared by every server of one benchmark invocation. */
export interface ServerSetup {
  /** Temporary folder for this server's configuration, data and logs. */
  workDir: string;
  domain: string;
  transport: Target['transport'];
  certFile: string;
  keyFile: string;
  /** Open-file limit for the server process, when it must be raised. */
  fdLimit?: number;
}
