// kcp-edge itself, started the way an operator starts it (`kcp-edge serve --config gateway.yaml`) with
// the pipeline fully on: workspace path parsing, routing through the embedded table, bearer token
// authentication, identity headers, mTLS to the upstream with certificate verification.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LOGICAL_CLUSTER } from '../upstream/body.ts';
import type { BenchEnv, Target } from './types.ts';

const repo = new URL('../../', import.meta.url).pathname;
const cli = join(repo, 'src/cli.ts');
export const BENCH_WORKSPACE = 'root:org-bench:proj-bench';
export const BENCH_TOKEN = 'bench-token-5c1d0e6f9a7b';
const workspacePath = `/clusters/${BENCH_WORKSPACE}/api/v1/namespaces/default/configmaps`;

/** Extra arguments for node (e.g. --cpu-prof) when profiling the gateway. */
export const kcpEdgeNodeArgs: string[] = [];

function gatewayYaml(env: BenchEnv, port: number, trustCaFile: string): string {
  return `
listen: { address: ${LOOPBACK}, port: ${port} }
tls: { certFile: ${env.serverCertFile}, keyFile: ${env.serverKeyFile} }
routing: { embedded: { file: routing.yaml } }
authentication: { tokenFile: tokens.csv }
upstream: { clientCertFile: ${env.clientCertFile}, clientKeyFile: ${env.clientKeyFile}, caFile: ${trustCaFile} }
drain: { timeoutSeconds: 2 }
# Like nginx in this bench (access_log off): no per-request access-log line.
log: { level: warn }
`;
}

function routingYaml(env: BenchEnv): string {
  return `
shards:
  - { name: shard-bench, url: "https://${LOOPBACK}:${env.upstreamPort}", state: active }
routes:
  - { path: ${BENCH_WORKSPACE}, shard: shard-bench, cluster: ${LOGICAL_CLUSTER} }
`;
}

export const kcpEdge: Target & { available(): Promise<boolean>; unavailableReason(): string } = {
  name: 'kcp-edge',
  async available() {
    return /\bserve:/.test(await readFile(cli, 'utf8'));
  },
  unavailableReason: () => '`kcp-edge serve` has not landed yet; measuring the peers only',
  describe: async () => `kcp-edge ${(JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version}, Node ${process.versions.node}, one process`,
  async start(env, trustCaFile) {
    const port = await freePort();
    const dir = join(env.dir, `kcp-edge-${port}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(env, port, trustCaFile));
    await writeFile(join(dir, 'routing.yaml'), routingYaml(env));
    await writeFile(join(dir, 'tokens.csv'), `${BENCH_TOKEN},bench-user,1001,"bench:developers,org-bench:members"\n`, { mode: 0o600 });
    const managed = env.processes.spawn(`kcp-edge-${port}`, process.execPath, [...kcpEdgeNodeArgs, cli, 'serve', '--config', join(dir, 'gateway.yaml')], { cwd: dir });
    await waitForPort(port, { what: 'kcp-edge', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    return { port, path: workspacePath, headers: { authorization: `Bearer ${BENCH_TOKEN}` }, pgids: [managed.pgid], stop: () => managed.stop() };
  },
};
