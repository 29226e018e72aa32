// The Go peer (go-peer/main.go): a standard-library front proxy doing kcp's front-proxy per-request work
// with a static token, built here from Debian's golang-go (`go build main.go`, no modules) when `go` is
// on PATH, and skipped with a message when it is not.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { versionOf } from '../lib/install.ts';
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LOGICAL_CLUSTER } from '../upstream/body.ts';
import { BENCH_WORKSPACE } from './kcp-edge.ts';
import type { BenchEnv, Target } from './types.ts';

const run = promisify(execFile);
const source = new URL('./go-peer/', import.meta.url).pathname;
const TOKEN = 'go-peer-bench-token';

let built: Promise<string> | undefined;

/** Builds the binary once per bench run, into the run's directory. */
function build(env: BenchEnv): Promise<string> {
  built ??= (async () => {
    const dir = join(env.dir, 'go-peer');
    await mkdir(dir, { recursive: true });
    const binary = join(dir, 'go-peer');
    await run('go', ['build', '-o', binary, 'main.go'], { cwd: source, env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '' } });
    return binary;
  })();
  return built;
}

export const goPeer: Target & { available(): Promise<boolean>; unavailableReason(): string } = {
  name: 'go-peer',
  async available() {
    return (await versionOf('go', ['version'])) !== 'unknown';
  },
  unavailableReason: () => '`go` is not on PATH (apt-get install golang-go); the Go peer is not measured',
  describe: async () => `Go stdlib front proxy (httputil.ReverseProxy, path → shard map, static token, X-Remote-*), ${(await versionOf('go', ['version'])).split(' ')[2] ?? 'go'}`,
  async start(env, trustCaFile) {
    const binary = await build(env);
    const port = await freePort();
    const config = {
      listen: `${LOOPBACK}:${port}`,
      certFile: env.serverCertFile,
      keyFile: env.serverKeyFile,
      caFile: trustCaFile,
      clientCertFile: env.clientCertFile,
      clientKeyFile: env.clientKeyFile,
      connections: env.connections,
      shards: { 'shard-bench': `https://${LOOPBACK}:${env.upstreamPort}` },
      routes: { [BENCH_WORKSPACE]: { shard: 'shard-bench', cluster: LOGICAL_CLUSTER } },
      tokens: { [TOKEN]: { user: 'bench-user', groups: ['developers', 'system:authenticated'] } },
    };
    const managed = env.processes.spawn(`go-peer-${port}`, binary, [JSON.stringify(config)]);
    await waitForPort(port, { what: 'go-peer', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    return {
      port,
      path: `/clusters/${BENCH_WORKSPACE}/api/v1/namespaces/default/configmaps`,
      headers: { authorization: `Bearer ${TOKEN}` },
      pgids: [managed.pgid],
      stop: () => managed.stop(),
    };
  },
};
