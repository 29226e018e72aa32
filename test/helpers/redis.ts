// A real redis-server per test, on a free loopback port, in its own temp dir, with persistence off.
// `stop()` then `start()` brings it back on the same port (an outage the clients must survive).
// Options add server arguments (`--requirepass`, …) or make it serve TLS only; `startSentinel` runs a
// Sentinel (redis-server --sentinel) watching one of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  /** redis:// (rediss:// with TLS) to 127.0.0.1 and the port, without credentials. */
  readonly url: string;
  /** The server's temp dir (its TLS files are there). */
  readonly dir: string;
  /** Starts (again) on the same port; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Kills the process (SIGKILL: no goodbye to clients); resolves when it has exited. */
  stop(): Promise<void>;
  /** Stops and removes the temp dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** More redis-server arguments, e.g. ['--requirepass', 'secret']. */
  args?: string[];
  /** Serve TLS only (no plain port) with this certificate; clients must present one signed by `clientCAPem` when given. */
  tls?: { certPem: string; keyPem: string; clientCAPem?: string };
}

function launch(dir: string, args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(ready)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`redis-server ${args.join(' ')} exited (${code}): ${output.slice(-500)}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

/**
 * A redis-server process on a free port (another process may take the port between probe and bind, so a
 * few fresh ones are tried), restartable on that same port, killed by stop() and removed with its dir.
 */
async function runOnFreePort(dir: string, launchAt: (port: number) => Promise<ChildProcess>, url: (port: number) => string): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launchAt(port);
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return {
    port,
    url: url(port),
    dir,
    async start() {
      if (child !== undefined) return;
      child = await launchAt(port);
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-redis-'));
  const tls = options.tls;
  if (tls !== undefined) {
    await writeFile(join(dir, 'server.crt'), tls.certPem);
    await writeFile(join(dir, 'server.key'), tls.keyPem, { mode: 0o600 });
    // redis-server wants a CA file even when it asks clients for no certificate.
    await writeFile(join(dir, 'clients-ca.crt'), tls.clientCAPem ?? tls.certPem);
  }
  const argsFor = (port: number): string[] => [
    ...(tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          'server.crt',
          '--tls-key-file',
          'server.key',
          '--tls-ca-cert-file',
          'clients-ca.crt',
          '--tls-auth-clients',
          tls.clientCAPem === undefined ? 'no' : 'yes',
        ]),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    ...(options.args ?? []),
  ];
  return runOnFreePort(
    dir,
    (port) => launch(dir, argsFor(port), 'Ready to accept connections'),
    (port) => `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
  );
}

export interface SentinelOptions {
  /** The master the sentinel watches (as `mymaster`, quorum 1), and the password it needs for it. */
  master: RedisServer;
  masterPassword?: string;
  /** The sentinel's own password (`requirepass` of the sentinel). */
  password?: string;
  /** Serve TLS only with this certificate, and reach the master over TLS (it must serve TLS too), trusting `caPem`. */
  tls?: { certPem: string; keyPem: string; caPem: string };
  /** How long the master must be unreachable before Sentinel calls it down (Sentinel's default: 30 s). */
  downAfterMs?: number;
}

/** A Sentinel on a free port watching `master`; its config file lives in its own temp dir (Sentinel rewrites it). */
export async function startSentinel(options: SentinelOptions): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-sentinel-'));
  const tls = options.tls;
  if (tls !== undefined) {
    await writeFile(join(dir, 'server.crt'), tls.certPem);
    await writeFile(join(dir, 'server.key'), tls.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'ca.crt'), tls.caPem);
  }
  const configure = (p: number) =>
    writeFile(
      join(dir, 'sentinel.conf'),
      [
        ...(tls === undefined
          ? [`port ${p}`]
          : [
              'port 0',
              `tls-port ${p}`,
              `tls-cert-file ${join(dir, 'server.crt')}`,
              `tls-key-file ${join(dir, 'server.key')}`,
              `tls-ca-cert-file ${join(dir, 'ca.crt')}`,
              'tls-auth-clients no',
              'tls-replication yes',
            ]),
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${options.master.port} 1`,
        ...(options.masterPassword === undefined ? [] : [`sentinel auth-pass mymaster ${options.masterPassword}`]),
        ...(options.downAfterMs === undefined ? [] : [`sentinel down-after-milliseconds mymaster ${options.downAfterMs}`]),
        ...(options.password === undefined ? [] : [`requirepass ${options.password}`]),
        '',
      ].join('\n'),
    );
  // Sentinel rewrites its config file as it runs: it is written for the first start only.
  let configured = false;
  const launchAt = async (port: number): Promise<ChildProcess> => {
    if (!configured) await configure(port);
    const child = await launch(dir, [join(dir, 'sentinel.conf'), '--sentinel'], '+monitor master mymaster');
    configured = true;
    return child;
  };
  return runOnFreePort(dir, launchAt, (port) => `${tls === undefined ? 'redis' : 'rediss'}+sentinel://127.0.0.1:${port}/mymaster`);
}
