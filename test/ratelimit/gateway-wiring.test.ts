import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { isConfigError, loadConfig } from '../../src/config/index.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { gatewayDependencies } from '../../src/serve/gateway-dependencies.ts';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { makeTempDir } from '../helpers/wait.ts';
import { req, user, ws } from './fixtures.ts';

async function gatewayDir(dir: string, rateLimit: string[]): Promise<string> {
  const ca = await createCertificateAuthority('rl-wiring-ca');
  const server = await ca.issue({ commonName: 'gateway', dnsNames: ['localhost'], usage: 'server' });
  const client = await ca.issue({ commonName: 'gateway-client', usage: 'client' });
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs/gw.crt'), server.certPem);
  await writeFile(join(dir, 'certs/gw.key'), server.keyPem);
  await writeFile(join(dir, 'certs/client.crt'), client.certPem);
  await writeFile(join(dir, 'certs/client.key'), client.keyPem);
  await writeFile(join(dir, 'routing.yaml'), 'shards:\n  - { name: a, url: "https://127.0.0.1:1" }\nroutes:\n  - { path: root:org-acme:web, shard: a, cluster: c1 }\n');
  const file = join(dir, 'gateway.yaml');
  await writeFile(
    file,
    [
      'tls: { certFile: certs/gw.crt, keyFile: certs/gw.key }',
      'routing: { embedded: { file: routing.yaml } }',
      'upstream: { clientCertFile: certs/client.crt, clientKeyFile: certs/client.key }',
      'shardHealth: { enabled: false }',
      ...rateLimit,
    ].join('\n'),
  );
  return file;
}

test('gateway config: rateLimit.policyFile is checked with the rest and the gateway gets a limiter', async (t) => {
  await using tmp = await makeTempDir();
  await copyFile('config/ratelimit.yaml', join(tmp.dir, 'ratelimit.yaml'));
  const file = await gatewayDir(tmp.dir, ['rateLimit:', '  policyFile: ratelimit.yaml']);
  const config = await loadConfig(gatewayConfigKind, file);
  assert.deepEqual(config.rateLimit, { policyFile: join(tmp.dir, 'ratelimit.yaml') });
  const deps = await gatewayDependencies(config, pino({ level: 'silent' }));
  t.after(() => deps.close());
  const limiter = deps.options.limiter;
  assert.ok(limiter !== undefined);
  const d = await limiter.admit(user('alice'), req('GET', '/api/v1/configmaps?limit=5'), ws('org-acme:web'));
  assert.equal(d.flowSchema.name, 'tenant-users');
  d.release();
  assert.match(await deps.options.registry!.metrics(), /kcp_edge_ratelimit_admitted_total\{priority_level="tenants",flow_schema="tenant-users"\} 1/);
});

test('gateway config: a broken policy file is reported at rateLimit.policyFile; no section, no limiter', async (t) => {
  await using tmp = await makeTempDir();
  await writeFile(join(tmp.dir, 'policy.yaml'), 'priorityLevels:\n  - { name: x, limits: { rate: 0 } }\n');
  const bad = await gatewayDir(tmp.dir, ['rateLimit: { policyFile: policy.yaml }']);
  await assert.rejects(loadConfig(gatewayConfigKind, bad), (err: unknown) => {
    assert.ok(isConfigError(err));
    const issue = err.issues.find((i) => i.field === 'rateLimit.policyFile');
    assert.ok(issue !== undefined, err.message);
    assert.match(issue.message, /policy\.yaml:2:\d+: priorityLevels\[0\]\.limits\.rate: must be > 0/);
    return true;
  });
  await mkdir(join(tmp.dir, 'none'));
  const none = await gatewayDir(join(tmp.dir, 'none'), []);
  const deps = await gatewayDependencies(await loadConfig(gatewayConfigKind, none), pino({ level: 'silent' }));
  t.after(() => deps.close());
  assert.equal(deps.options.limiter, undefined);
});
