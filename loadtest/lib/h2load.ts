// Runs h2load (nghttp2) over HTTP/2 and reads it like wrk: throughput and failed streams from its summary,
// latency percentiles and statuses from its per-request log (the summary has no percentiles, and its
// status counts include responses that arrived after the run stopped counting).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK } from './net.ts';
import { percentile } from './stats.ts';
import type { WrkOptions, WrkResult } from './wrk.ts';

const run = promisify(execFile);

export interface H2loadSummary {
  /** What ALPN settled on, as h2load prints it. */
  protocol: string;
  requestsPerSecond: number;
  /** Requests that completed (any status). */
  done: number;
  /** Requests that failed below HTTP: reset streams, broken connections, timeouts. */
  errored: number;
}

export function parseH2loadSummary(output: string): H2loadSummary {
  const finished = /^finished in [\d.]+\w+, ([\d.]+) req\/s/m.exec(output);
  const requests = /^requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, \d+ failed, (\d+) errored, \d+ timeout/m.exec(output);
  if (finished === null || requests === null) throw new Error(`unexpected h2load output:\n${output}`);
  return {
    protocol: /^Application protocol: (\S+)/m.exec(output)?.[1] ?? 'none',
    requestsPerSecond: Number(finished[1]),
    done: Number(requests[1]),
    errored: Number(requests[2]),
  };
}

export interface H2loadLog {
  /** Milliseconds from start to end of each answered request. */
  latenciesMs: number[];
  /** Answers with status 4xx or 5xx (what wrk counts as "Non-2xx or 3xx responses"). */
  non2xx: number;
}

/**
 * h2load's `--log-file`: one line per completed request, tab-separated start time (µs since the epoch),
 * status (-1 for a failed stream) and µs until the end of the response.
 */
export function parseH2loadLog(log: string): H2loadLog {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  for (const line of log.split('\n')) {
    if (line === '') continue;
    const [, statusText, micros] = line.split('\t');
    const status = Number(statusText);
    if (micros === undefined || !Number.isInteger(status) || !Number.isFinite(Number(micros))) throw new Error(`unexpected h2load log line "${line}"`);
    if (status < 0) continue; // a failed stream: counted by the summary's "errored"
    latenciesMs.push(Number(micros) / 1000);
    if (status >= 400) non2xx += 1;
  }
  return { latenciesMs, non2xx };
}

/** What the bench reads from one h2load run, in wrk's terms so both tables mean the same. */
export function h2loadResult(summary: H2loadSummary, log: H2loadLog): WrkResult {
  return {
    requests: summary.done,
    requestsPerSecond: summary.requestsPerSecond,
    p50Ms: percentile(log.latenciesMs, 50),
    p90Ms: percentile(log.latenciesMs, 90),
    p99Ms: percentile(log.latenciesMs, 99),
    socketErrors: summary.errored,
    non2xx: log.non2xx,
  };
}

/**
 * h2load with `connections` clients, each with one stream in flight (`-m1`, like one wrk connection),
 * offering only h2 in ALPN: a target that cannot speak HTTP/2 fails instead of falling back. With
 * `ratePerConnection`, each client sends at that steady rate (`--rps`) instead of as fast as it can.
 * `protocol: 'http/1.1'` makes it an HTTP/1.1 client instead (one request in flight per connection).
 */
export async function runH2load(options: WrkOptions & { ratePerConnection?: number; protocol?: 'h2' | 'http/1.1' }): Promise<WrkResult> {
  const protocol = options.protocol ?? 'h2';
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-h2load-'));
  try {
    const logFile = join(dir, 'requests.tsv');
    const args = [
      `-t${options.threads}`,
      `-c${options.connections}`,
      '-m1',
      `-D${options.seconds}`,
      // --h1 offers only http/1.1 in ALPN, as --npn-list=h2 offers only h2.
      protocol === 'h2' ? '--npn-list=h2' : '--h1',
      ...(options.ratePerConnection === undefined ? [] : [`--rps=${options.ratePerConnection}`]),
      `--log-file=${logFile}`,
      ...Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      `https://${LOOPBACK}:${options.port}${options.path}`,
    ];
    const { stdout } = await run('h2load', args, { timeout: (options.seconds + 30) * 1000, maxBuffer: 1 << 20 });
    const summary = parseH2loadSummary(stdout);
    if (summary.protocol !== protocol) throw new Error(`h2load negotiated "${summary.protocol}", not ${protocol}:\n${stdout}`);
    if (summary.done === 0) throw new Error(`h2load completed no request:\n${stdout}`);
    return h2loadResult(summary, parseH2loadLog(await readFile(logFile, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
