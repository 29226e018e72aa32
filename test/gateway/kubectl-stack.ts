// The gateway in front of two stand-in shards, one workspace on each, and a kubeconfig for them: what
// end-to-end tests of real clients (kubectl, helm) run against.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server.ts';
import { createCertificateAuthority, issueLoopbackServer, startShard, type SimShard } from '../../src/sim/index.ts';
import { makeTempDir } from '../helpers/wait.ts';
import { StaticRoutingTable } from './fixtures.ts';

const run = promisify(execFile);
export const kubectlPath = '/usr/bin/kubectl';
export const kubectlMissing = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

export interface KubectlStack {
  gateway: Gateway;
  shards: SimShard[];
  kubeconfig: string;
  dir: string;
}

export const stackWorkspaces = [
  { path: 'root:org-acme:proj-frontend', context: 'org-acme:proj-frontend', cluster: 'fr0nt1', shard: 0 },
  { path: 'root:org-acme:proj-backend', context: 'org-acme:proj-backend', cluster: 'b4ck3nd', shard: 1 },
] as const;

/** `gatewayOptions` add to the gateway's own (observers, limits). */
export async function startKubectlStack(t: TestContext, gatewayOptions: Partial<GatewayOptions> = {}): Promise<KubectlStack> {
  const temp = await makeTempDir();
  t.after(() => temp[Symbol.asyncDispose]());
  const ca = await createCertificateAuthority('e2e-ca');
  const frontProxyCA = await createCertificateAuthority('e2e-front-proxy-ca');
  const [gatewayServing, gatewayClient] = await Promise.all([issueLoopbackServer(ca, 'kcp-edge'), frontProxyCA.issue({ commonName: 'kcp-edge-gateway', usage: 'client' })]);
  const shards = await Promise.all(
    ['shard-a', 'shard-b'].map((name) => startShard({ name, ca, requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: ['kcp-edge-gateway'] })),
  );
  t.after(() => Promise.all(shards.map((s) => s.close())));

  const routing = new StaticRoutingTable();
  shards.forEach((s) => routing.addShard(s.name, s.url));
  for (const ws of stackWorkspaces) {
    const shard = shards[ws.shard]!;
    routing.addRoute(ws.path, shard.name, ws.cluster);
    const admin = await shard.client();
    const created = await admin.request('POST', `/clusters/${ws.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`, {
      body: { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': ws.path } }, spec: {} },
    });
    assert.ok(created.status < 300, `logical cluster ${ws.cluster}: ${created.status} ${created.text}`);
    const ns = await admin.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces`, { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
    assert.ok(ns.status < 300 || ns.status === 409, `namespace default in ${ws.cluster}: ${ns.text}`);
  }

  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: gatewayServing.certPem, keyPem: gatewayServing.keyPem },
    routing,
    authenticators: [StaticTokenAuthenticator.fromCsv('alice-token,alice,1001,"team-web,system:masters"\n')],
    upstream: { clientCertPem: gatewayClient.certPem, clientKeyPem: gatewayClient.keyPem, caPem: ca.certPem },
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 2000,
    ...gatewayOptions,
  });
  t.after(() => gateway.close());

  const kubeconfig = join(temp.dir, 'kubeconfig');
  const caFile = join(temp.dir, 'ca.crt');
  await writeFile(caFile, ca.certPem);
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...stackWorkspaces.flatMap((ws) => [`- name: ${ws.context}`, '  cluster:', `    server: ${gateway.url}/clusters/${ws.context}`, `    certificate-authority: ${caFile}`]),
    'users:',
    '- name: alice',
    '  user:',
    '    token: alice-token',
    'contexts:',
    ...stackWorkspaces.flatMap((ws) => [`- name: ${ws.context}`, '  context:', `    cluster: ${ws.context}`, '    user: alice', '    namespace: default']),
    `current-context: ${stackWorkspaces[0].context}`,
    '',
  ].join('\n');
  await writeFile(kubeconfig, yaml);
  return { gateway, shards, kubeconfig, dir: temp.dir };
}

/** A request through the gateway as alice, for paths whose answer is a Status (refusals at the edge). */
export async function fetchStatus(stack: KubectlStack, path: string): Promise<{ code: number; message: string }> {
  const ca = await readFile(join(stack.dir, 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: stack.gateway.port, path, ca, agent: false, headers: { authorization: 'Bearer alice-token' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { code: number; message: string }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** kubectl (the one on PATH, or `binary`) in one context of the stack; rejects with kubectl's stderr in the message. */
export function kubectlIn(stack: KubectlStack, context: string, options: { binary?: string; env?: NodeJS.ProcessEnv } = {}) {
  return async (...args: string[]): Promise<string> => {
    try {
      return (await run(options.binary ?? kubectlPath, ['--kubeconfig', stack.kubeconfig, '--context', context, ...args], { env: options.env ?? process.env })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} (${context}) failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };
}
