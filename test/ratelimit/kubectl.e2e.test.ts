// Tried as a new user would: kubectl in a loop against a tight policy. client-go honours 429 +
// Retry-After by waiting and retrying, so every command succeeds, only slower; a raw client sees
// the readable Status.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import { startGateway } from '../../src/gateway/server.ts';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { staticPolicy } from '../../src/ratelimit/policy-source.ts';
import { createCertificateAuthority, issueLoopbackServer, startShard } from '../../src/sim/index.ts';
import { makeTempDir } from '../helpers/wait.ts';
import { StaticRoutingTable } from '../gateway/fixtures.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed`;

function rawGet(url: string, ca: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, headers: { authorization: 'Bearer alice-token' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const policy = `
priorityLevels:
  - name: tenants
    limits: { rate: 2, burst: 2 }
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: tenants, distinguisher: byUser, rules: [{ orgs: ["*"] }] }
`;

test('a looped kubectl against a tight policy gets 429 + Retry-After and its own retries succeed', { skip }, async (t) => {
  await using temp = await makeTempDir();
  const ca = await createCertificateAuthority('rl-e2e-ca');
  const frontProxyCA = await createCertificateAuthority('rl-e2e-front-proxy-ca');
  const [serving, client] = await Promise.all([issueLoopbackServer(ca, 'kcp-edge'), frontProxyCA.issue({ commonName: 'kcp-edge-gateway', usage: 'client' })]);
  const shard = await startShard({ name: 'shard-a', ca, requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: ['kcp-edge-gateway'] });
  t.after(() => shard.close());
  const admin = await shard.client();
  const created = await admin.request('POST', '/clusters/w0rk/apis/core.kcp.io/v1alpha1/logicalclusters', {
    body: { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': 'root:org-acme:web' } }, spec: {} },
  });
  assert.ok(created.status < 300, created.text);
  await admin.request('POST', '/clusters/w0rk/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });

  const registry = new Registry();
  const limiter = new MemoryLimiter({ policy: staticPolicy(await parsePolicy(policy)), metrics: registerRateLimitMetrics(registry) });
  t.after(() => limiter.close());
  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: serving.certPem, keyPem: serving.keyPem },
    routing: new StaticRoutingTable().addShard(shard.name, shard.url).addRoute('root:org-acme:web', shard.name, 'w0rk'),
    authenticators: [StaticTokenAuthenticator.fromCsv('alice-token,alice,1001,"dev"\n')],
    upstream: { clientCertPem: client.certPem, clientKeyPem: client.keyPem, caPem: ca.certPem },
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 2000,
    limiter,
    registry,
  });
  t.after(() => gateway.close());

  const caFile = join(temp.dir, 'ca.crt');
  const kubeconfig = join(temp.dir, 'kubeconfig');
  await writeFile(caFile, ca.certPem);
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: web',
      '  cluster:',
      `    server: ${gateway.url}/clusters/org-acme:web`,
      `    certificate-authority: ${caFile}`,
      'users:',
      '- name: alice',
      '  user:',
      '    token: alice-token',
      'contexts:',
      '- name: web',
      '  context:',
      '    cluster: web',
      '    user: alice',
      'current-context: web',
      '',
    ].join('\n'),
  );
  const kubectl = (...args: string[]) => run(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', join(temp.dir, 'cache'), ...args], { timeout: 60_000 });

  await kubectl('create', 'configmap', 'hello', '--from-literal=greeting=hi');
  let stderr = '';
  for (let i = 0; i < 4; i++) {
    // -v=6 logs every HTTP exchange: the 429s and the retries that follow them.
    const out = await kubectl('get', 'configmap', 'hello', '-o', 'jsonpath={.data.greeting}', '-v=6');
    assert.equal(out.stdout, 'hi');
    stderr += out.stderr;
  }
  assert.match(stderr, / 429 Too Many Requests /, 'kubectl was limited at least once');
  const rejected = /kcp_edge_ratelimit_rejected_total\{[^}]*\} (\d+)/.exec(await registry.metrics());
  assert.ok(rejected !== null && Number(rejected[1]) > 0);

  // A burst from a plain client: the 429s carry the readable Status and Retry-After.
  const replies = await Promise.all([0, 1, 2, 3, 4, 5].map(() => rawGet(`${gateway.url}/clusters/org-acme:web/api/v1/namespaces/default/configmaps?limit=1`, ca.certPem)));
  const limited = replies.find((r) => r.status === 429);
  assert.ok(limited !== undefined, `statuses ${replies.map((r) => r.status).join(',')}`);
  assert.ok(Number(limited.retryAfter) >= 1);
  const status = JSON.parse(limited.body) as { reason: string; message: string };
  assert.equal(status.reason, 'TooManyRequests');
  assert.match(status.message, /too many requests for user "alice" \(flow schema "per-user", priority level "tenants"\): the limit is 2 per second/);
});
