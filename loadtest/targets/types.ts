// What the side-by-side comparison needs from each thing it measures.
import type { Processes } from '../lib/processes.ts';

/** Files and ports shared by every target in one bench run. */
export interface BenchEnv {
  dir: string;
  processes: Processes;
  upstreamPort: number;
  /** CA that signed the upstream's serving certificate (and every other certificate here). */
  caFile: string;
  /** A CA with the same name and another key: a target told to trust it must refuse the upstream. */
  wrongCaFile: string;
  /** Serving certificate for the targets' own listeners. */
  serverCertFile: string;
  serverKeyFile: string;
  /** Front-proxy client certificate presented to the upstream (requestheader authentication). */
  clientCertFile: string;
  clientKeyFile: string;
  /** Concurrent client connections the load generator opens. */
  connections: number;
}

export interface RunningTarget {
  port: number;
  /** Path the client requests; the target maps it to the upstream's list path. */
  path: string;
  headers: Record<string, string>;
  /** Process groups whose CPU time is the target's cost (empty for direct). */
  pgids: number[];
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  /** The protocol it speaks to the upstream (HTTP/1.1 when absent); the bench checks every request against it. */
  upstreamHop?: 'h1' | 'h2';
  /** Product and version, as printed in the report. */
  describe(): Promise<string>;
  /** Starts the target trusting `trustCaFile` for the upstream's certificate. */
  start(env: BenchEnv, trustCaFile: string): Promise<RunningTarget>;
}
