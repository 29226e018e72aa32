// What the `kcp-edge serve` tests share: a directory with a gateway config and every file it names, a
// serve child process whose log lines are collected, and reading those lines.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Pki } from '../gateway/fixtures.ts';

export type LogEntry = Record<string, unknown>;

/** A token of the admin listener's group (serveDir's admin-tokens.csv): what Prometheus scrapes with. */
export const ADMIN_TOKEN = 'scrape-token';

/** The admin listener's URL from the 'kcp-edge gateway serving' line. */
export function adminUrl(serving: LogEntry): string {
  const url = serving['admin'];
  if (typeof url !== 'string') throw new Error('the serving line names no admin listener');
  return url;
}

export function readLines(child: ChildProcess, sink: string[]): void {
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    sink.push(...parts);
  });
}

/** Every log entry with this message, in order. */
export function allLogged(lines: string[], msg: string): LogEntry[] {
  const found: LogEntry[] = [];
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as LogEntry;
      if (entry['msg'] === msg) found.push(entry);
    } catch {
      // not a log line
    }
  }
  return found;
}

export function logged(lines: string[], msg: string): LogEntry | undefined {
  return allLogged(lines, msg)[0];
}

/**
 * A directory holding gateway.yaml (listening on 127.0.0.1:0, tokens for alice, one route
 * root:org-acme:proj-x → cluster projx on `shardUrl`) plus `extra` lines and `files`.
 */
export async function serveDir(t: TestContext, pki: Pki, shardUrl: string, extra: string[] = [], files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const all: Record<string, string> = {
    'serving.crt': pki.gatewayServing.certPem,
    'serving.key': pki.gatewayServing.keyPem,
    'client.crt': pki.gatewayClient.certPem,
    'client.key': pki.gatewayClient.keyPem,
    'ca.crt': pki.ca.certPem,
    'tokens.csv': 'alice-token,alice,1001,"dev"\n',
    'admin-tokens.csv': `${ADMIN_TOKEN},prometheus,2001,"system:monitoring"\n`,
    'routing.yaml': `shards: [{ name: a, url: "${shardUrl}" }]\nroutes: [{ path: root:org-acme:proj-x, shard: a, cluster: projx }]\n`,
    'gateway.yaml': [
      'listen: { address: 127.0.0.1, port: 0 }',
      'tls: { certFile: serving.crt, keyFile: serving.key }',
      'routing: { embedded: { file: routing.yaml } }',
      'authentication: { tokenFile: tokens.csv }',
      'upstream: { clientCertFile: client.crt, clientKeyFile: client.key, caFile: ca.crt }',
      'drain: { timeoutSeconds: 2 }',
      'admin: { listen: { address: 127.0.0.1, port: 0 }, tokenFile: admin-tokens.csv }',
      ...extra,
    ].join('\n'),
    ...files,
  };
  for (const [name, text] of Object.entries(all)) await writeFile(join(dir, name), text);
  return dir;
}

export interface ServeProcess {
  child: ChildProcess;
  /** stdout, line by line, as it arrives (the log of the process and of any worker it forks). */
  lines: string[];
  /** stderr as it arrives (also passed on to this process's stderr). */
  stderr: string[];
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * `kcp-edge serve --config <dir>/gateway.yaml …args`, killed when the test ends. `detached`: leading a
 * process group of its own, as a shell runs it (Ctrl-C signals the whole group).
 */
export function startServe(t: TestContext, dir: string, args: string[] = [], { detached = false } = {}): ServeProcess {
  const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--config', join(dir, 'gateway.yaml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  // Its workers, if any, exit when their channel to it closes.
  t.after(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  readLines(child, lines);
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    process.stderr.write(chunk);
  });
  return { child, lines, stderr, exited };
}

/** One request on a connection of its own (so that each may land on another worker). */
export function fetchFresh(url: string, pki: Pki, path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const auth = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = request(`${url}${path}`, { ca: pki.ca.certPem, agent: false, headers: { ...auth, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
