// kcp-edge itself, started the way an operator starts it (`kcp-edge serve --config gateway.yaml`) with
// the pipeline fully on: workspace path parsing, routing through the embedded table, organisation-realm
// JWT validation (a real token from the stand-in Keycloak; after the first request it is served from the
// token cache), identity headers, shard health, and mTLS to the upstream with certificate verification.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startOidcIssuer, type OidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LOGICAL_CLUSTER } from '../upstream/body.ts';
import type { BenchEnv, Target } from './types.ts';

const repo = new URL('../../', import.meta.url).pathname;
const cli = join(repo, 'src/cli.ts');
const ORG = 'org-bench';
export const BENCH_WORKSPACE = `root:${ORG}:proj-bench`;
const workspacePath = `/clusters/${BENCH_WORKSPACE}/api/v1/namespaces/default/configmaps`;

/** Extra arguments for node (e.g. --cpu-prof) when profiling the gateway. */
export const kcpEdgeNodeArgs: string[] = [];

let keycloak: Promise<{ issuer: OidcIssuer; token: string }> | undefined;

/** The stand-in Keycloak (one realm per org) and one token of the bench user, shared by every instance. */
function realm(env: BenchEnv): Promise<{ issuer: OidcIssuer; token: string }> {
  keycloak ??= (async () => {
    const [certPem, keyPem] = await Promise.all([readFile(env.serverCertFile, 'utf8'), readFile(env.serverKeyFile, 'utf8')]);
    const issuer = await startOidcIssuer({ tls: { certPem, keyPem }, realms: [ORG], algorithm: 'RS256', tokenLifetimeSeconds: 3600 });
    const token = await issuer.mint(ORG, { user: 'bench-user', groups: ['developers'] });
    return { issuer, token };
  })();
  return keycloak;
}

function gatewayYaml(env: BenchEnv, port: number, trustCaFile: string, issuerUrl: string): string {
  return `
listen: { address: ${LOOPBACK}, port: ${port} }
tls: { certFile: ${env.serverCertFile}, keyFile: ${env.serverKeyFile} }
routing: { embedded: { file: routing.yaml } }
authentication:
  orgRealms:
    issuerTemplate: ${issuerUrl}/realms/{org}
    caFile: ${env.caFile}
    audiences: [kcp-edge]
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

export const kcpEdge: Target & { available(): Promise<boolean>; unavailableReason(): string; shutdown(): Promise<void> } = {
  name: 'kcp-edge',
  async available() {
    return /\bserve:/.test(await readFile(cli, 'utf8'));
  },
  unavailableReason: () => '`kcp-edge serve` has not landed yet; measuring the peers only',
  describe: async () => `kcp-edge ${(JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version}, Node ${process.versions.node}, one process, full pipeline`,
  async start(env, trustCaFile) {
    const { issuer, token } = await realm(env);
    const port = await freePort();
    const dir = join(env.dir, `kcp-edge-${port}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(env, port, trustCaFile, issuer.url));
    await writeFile(join(dir, 'routing.yaml'), routingYaml(env));
    const managed = env.processes.spawn(`kcp-edge-${port}`, process.execPath, [...kcpEdgeNodeArgs, cli, 'serve', '--config', join(dir, 'gateway.yaml')], { cwd: dir });
    await waitForPort(port, { what: 'kcp-edge', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    return { port, path: workspacePath, headers: { authorization: `Bearer ${token}` }, pgids: [managed.pgid], stop: () => managed.stop() };
  },
  async shutdown() {
    const started = keycloak;
    keycloak = undefined;
    if (started !== undefined) await (await started).issuer.close();
  },
};
