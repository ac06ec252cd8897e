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

/** A started server. */
export interface RunningServer {
  pid: number;
  target: Target;
  /** Reads the process's memory now. */
  memory(): Promise<MemorySample>;
  /** CPU time of the process and its threads so far, in milliseconds. */
  cpuMs(): number;
  /** Stops the process (SIGTERM, then SIGKILL after a timeout). */
  stop(): Promise<void>;
}

/** A server with its generated configuration, ready to start any number of times on the same data. */
export interface PreparedServer {
  name: ServerName;
  /** Package or build version, for the report. */
  version: string;
  /** Facts about the configuration that a reader of the results needs. */
  notes: string[];
  /** Folder with everything the server stores, copied after registration and restored before each run. */
  stateDir: string;
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
