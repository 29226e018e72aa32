// Runs wrk and reads its summary: throughput, latency percentiles, and anything that went wrong.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LOOPBACK } from './net.ts';

const run = promisify(execFile);

export interface WrkOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  threads: number;
  connections: number;
  seconds: number;
}

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  socketErrors: number;
  non2xx: number;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match === null) throw new Error(`unexpected wrk duration "${text}"`);
  return Number(match[1]) * unitMs[match[2]!]!;
}

export function parseWrk(output: string): WrkResult {
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    if (match === null) throw new Error(`wrk printed no ${p}th percentile:\n${output}`);
    return durationMs(match[1]!);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s+(\d+) requests in/m.exec(output);
  if (rps === null || total === null) throw new Error(`unexpected wrk output:\n${output}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(total[1]),
    requestsPerSecond: Number(rps[1]),
    p50Ms: percentile('50'),
    p90Ms: percentile('90'),
    p99Ms: percentile('99'),
    socketErrors: socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    ...Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    `https://${LOOPBACK}:${options.port}${options.path}`,
  ];
  const { stdout } = await run('wrk', args, { timeout: (options.seconds + 30) * 1000, maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}
