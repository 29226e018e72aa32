// kcp-edge itself, started the way an operator starts it (`kcp-edge serve --config gateway.yaml`) with
// the pipeline fully on: workspace path parsing, routing through the embedded table, organisation-realm
// JWT validation (a real token from the stand-in Keycloak; after the first request it is served from the
// token cache), the rate policy (a per-user flow on a limited priority level, limits far above the load),
// identity headers, shard health, and mTLS to the upstream with certificate verification.
// Twice: as one process (`kcp-edge`), and with `workers: 2` (`kcp-edge-2w`), as nginx runs here.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultUpstreamProtocol } from '../../src/gateway/shard-pools.ts';
import { startOidcIssuer, type OidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { freePort, httpsGet, LOOPBACK, waitForPort } from '../lib/net.ts';
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

/**
 * The bench user's realm JWT. node-floor is sent it too, so that both gateways receive the same request
 * bytes (the token alone is ~900 of them, to decrypt and HPACK-decode) and the side-by-side ratio is what
 * kcp-edge's pipeline adds, not what a bigger request costs to read.
 */
export async function benchBearerToken(env: BenchEnv): Promise<string> {
  return (await realm(env)).token;
}

/** The admin listener's token (admin-tokens.csv): how the bench reads /metrics, as Prometheus would. */
const ADMIN_TOKEN = 'bench-scrape-token';

/** What a variant changes: the protocol to the shard, and the open-watch caps (the watch scenarios go past their defaults). */
export interface KcpEdgeVariant {
  upstreamProtocol?: 'h1' | 'h2';
  maxOpenWatches?: number;
}

function gatewayYaml(env: BenchEnv, port: number, adminPort: number, workers: number, trustCaFile: string, issuerUrl: string, variant: KcpEdgeVariant): string {
  const protocol = variant.upstreamProtocol === undefined ? '' : `, protocol: ${variant.upstreamProtocol}`;
  const watches = variant.maxOpenWatches === undefined ? '' : `watches: { maxOpen: ${variant.maxOpenWatches}, maxOpenPerOrg: ${variant.maxOpenWatches} }\n`;
  return `
listen: { address: ${LOOPBACK}, port: ${port} }
workers: ${workers}
tls: { certFile: ${env.serverCertFile}, keyFile: ${env.serverKeyFile} }
routing: { embedded: { file: routing.yaml } }
authentication:
  orgRealms:
    issuerTemplate: ${issuerUrl}/realms/{org}
    caFile: ${env.caFile}
    audiences: [kcp-edge]
upstream: { clientCertFile: ${env.clientCertFile}, clientKeyFile: ${env.clientKeyFile}, caFile: ${trustCaFile}${protocol} }
${watches}drain: { timeoutSeconds: 2 }
rateLimit: { policyFile: ratelimit.yaml }
admin: { listen: { address: ${LOOPBACK}, port: ${adminPort} }, tokenFile: admin-tokens.csv }
# Like nginx in this bench (access_log off): no per-request access-log line.
log: { level: warn }
`;
}

/**
 * Every bench request is classified, charged to its user's GCRA bucket and holds an in-flight slot, as
 * a tenant's would; the limits are far above what two cores can send, so nothing is refused.
 */
const ratelimitYaml = `
apiVersion: kcp-edge.io/v1alpha1
kind: RateLimitPolicy
priorityLevels:
  - name: bench-tenants
    limits: { rate: 1000000, burst: 1000000, maxInFlight: 100000, maxOpenWatches: 100000 }
flowSchemas:
  - name: bench-users
    precedence: 1000
    priorityLevel: bench-tenants
    distinguisher: byUser
    rules:
      - orgs: ["*"]
`;

function routingYaml(env: BenchEnv): string {
  return `
shards:
  - { name: shard-bench, url: "https://${LOOPBACK}:${env.upstreamPort}", state: active }
routes:
  - { path: ${BENCH_WORKSPACE}, shard: shard-bench, cluster: ${LOGICAL_CLUSTER} }
`;
}

/** A multi-process serve answers on its port once the first worker listens: wait for all of them. */
async function waitForWorkers(adminPort: number, workers: number, caFile: string, alive: () => boolean): Promise<void> {
  const ca = await readFile(caFile, 'utf8');
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline && alive()) {
    const metrics = await httpsGet(adminPort, '/metrics', { ca, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(
      (r) => r.body.toString(),
      (err: Error) => err.message,
    );
    last = /^kcp_edge_workers_serving .*$/m.exec(metrics)?.[0] ?? '';
    if (last === `kcp_edge_workers_serving ${workers}`) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`kcp-edge: ${workers} workers not serving (${last || 'no kcp_edge_workers_serving in /metrics'})`);
}

type KcpEdgeTarget = Target & { available(): Promise<boolean>; unavailableReason(): string; shutdown(): Promise<void> };

export function kcpEdgeTarget(name: string, workers: number, variant: KcpEdgeVariant = {}): KcpEdgeTarget {
  return {
    name,
    // The comparison sends short requests: HTTP/2 to the shard only when everything goes that way.
    upstreamHop: (variant.upstreamProtocol ?? defaultUpstreamProtocol) === 'h2' ? 'h2' : 'h1',
    async available() {
      return /\bserve:/.test(await readFile(cli, 'utf8'));
    },
    unavailableReason: () => '`kcp-edge serve` has not landed yet; measuring the peers only',
    describe: async () =>
      `kcp-edge ${(JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version}, Node ${process.versions.node}, ${workers === 1 ? 'one process' : `${workers} worker processes`}, full pipeline (realm JWT from cache, rate policy)${variant.upstreamProtocol === undefined ? '' : `, ${variant.upstreamProtocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'} to the shard`}`,
    async start(env, trustCaFile) {
      const { issuer, token } = await realm(env);
      const port = await freePort();
      const adminPort = await freePort();
      const dir = join(env.dir, `${name}-${port}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(env, port, adminPort, workers, trustCaFile, issuer.url, variant));
      await writeFile(join(dir, 'admin-tokens.csv'), `${ADMIN_TOKEN},bench,bench,"system:monitoring"\n`);
      await writeFile(join(dir, 'routing.yaml'), routingYaml(env));
      await writeFile(join(dir, 'ratelimit.yaml'), ratelimitYaml);
      const managed = env.processes.spawn(`${name}-${port}`, process.execPath, [...kcpEdgeNodeArgs, cli, 'serve', '--config', join(dir, 'gateway.yaml')], { cwd: dir });
      const alive = () => managed.child.exitCode === null;
      try {
        await waitForPort(port, { what: name, alive });
        if (workers > 1) await waitForWorkers(adminPort, workers, env.caFile, alive);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${managed.tail()}`);
      }
      // The workers are in the supervisor's process group: their CPU time counts.
      return { port, path: workspacePath, headers: { authorization: `Bearer ${token}` }, pgids: [managed.pgid], stop: () => managed.stop() };
    },
    async shutdown() {
      const started = keycloak;
      keycloak = undefined;
      if (started !== undefined) await (await started).issuer.close();
    },
  };
}

export const kcpEdge = kcpEdgeTarget('kcp-edge', 1);
export const kcpEdgeTwoWorkers = kcpEdgeTarget('kcp-edge-2w', 2);
/** Both upstream protocols side by side, whichever is the default. */
export const kcpEdgeH1Upstream = kcpEdgeTarget('kcp-edge-h1up', 1, { upstreamProtocol: 'h1' });
export const kcpEdgeH2Upstream = kcpEdgeTarget('kcp-edge-h2up', 1, { upstreamProtocol: 'h2' });
