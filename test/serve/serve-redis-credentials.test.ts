// `kcp-edge serve` against a production-shaped Redis: TLS with a private CA, an ACL user limited to
// the gateway's key prefix, its password in a mounted Secret. Started with the wrong password, the
// gateway serves degraded and says why; rotating the Secret makes it whole without a restart. No
// password ever shows in its log, its /metrics or `serve --check`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { applyRedisAuth } from '../../src/routing/redis-auth-settings.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';
import { startTestShard, testPki } from '../gateway/fixtures.ts';
import { mountedSecret } from '../helpers/mounted-secret.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { ADMIN_TOKEN, adminUrl, allLogged, fetchFresh, logged, serveDir, startServe } from './serve-fixtures.ts';

const run = promisify(execFile);
const ADMIN = 'admin-serve-Bf7kTz2q';
const RIGHT = 'gateway-right-Mc9vLp4x';
const WRONG = 'gateway-wrong-Sd3hNw8r';
const passwords = [ADMIN, RIGHT, WRONG];

test('serve: TLS and an ACL user from a mounted Secret; a wrong password degrades, the rotated one heals, none is ever shown', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const redisCa = await createCertificateAuthority('kcp-edge test Redis CA');
  await using redis = await startRedis({ tls: await issueLoopbackServer(redisCa, 'redis'), args: ['--requirepass', ADMIN] });
  await using secret = await mountedSecret({ password: `${WRONG}\n` });
  const dir = await serveDir(t, pki, shard.url, [], { 'redis-ca.crt': redisCa.certPem, 'admin-password': ADMIN });

  // What the gateway may touch: its key prefix and channels, nothing else.
  const { connection: adminConnection } = applyRedisAuth(parseRedisUrl(redis.url), { tls: { caFile: join(dir, 'redis-ca.crt') }, passwordFile: join(dir, 'admin-password') });
  const admin = RedisRouteStore.connect(adminConnection);
  t.after(() => admin.close());
  await admin.client.call('ACL', 'SETUSER', 'kcp-edge', 'reset', 'on', `>${RIGHT}`, '~kcp-edge:*', '&kcp-edge:*', '+@all');
  await admin.putShard({ name: 'a', url: shard.url, state: 'active', labels: {} });
  await admin.putRoute({ path: 'root:org-acme:proj-x', shard: 'a', cluster: 'projx', phase: 'Ready' });

  await writeFile(
    join(dir, 'gateway.yaml'),
    [
      'listen: { address: 127.0.0.1, port: 0 }',
      'tls: { certFile: serving.crt, keyFile: serving.key }',
      'routing:',
      '  redis:',
      `    url: "${redis.url}"`,
      '    username: kcp-edge',
      `    passwordFile: ${secret.path('password')}`,
      '    tls: { caFile: redis-ca.crt }',
      'authentication: { tokenFile: tokens.csv }',
      'upstream: { clientCertFile: client.crt, clientKeyFile: client.key, caFile: ca.crt }',
      'rateLimit: {}',
      'drain: { timeoutSeconds: 2 }',
      'admin: { listen: { address: 127.0.0.1, port: 0 }, tokenFile: admin-tokens.csv }',
    ].join('\n'),
  );

  const check = await run(process.execPath, ['src/cli.ts', 'serve', '--config', join(dir, 'gateway.yaml'), '--check']);
  assert.equal(check.stdout, `${join(dir, 'gateway.yaml')}: valid\n`);

  const serve = startServe(t, dir);
  const started = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'the gateway to serve', timeoutMs: 30_000 });
  const url = String(started['url']);
  const refused = logged(serve.lines, 'routing table: Redis refused the credentials (user, password file); cold lookups get 503 until it accepts them');
  assert.ok(refused, 'the refusal is logged');
  assert.equal(refused['level'], 50);
  assert.match(String(refused['err']), /^WRONGPASS/);
  assert.equal(refused['redis'], redis.url);
  assert.match(String(logged(serve.lines, 'routing table: Redis not reachable yet; serving 503 until it is')?.['err']), /^WRONGPASS/);
  assert.equal((await fetchFresh(url, pki, '/readyz')).status, 503);
  const degraded = await fetchFresh(url, pki, '/clusters/org-acme:proj-x/api/v1/namespaces', 'alice-token');
  assert.equal(degraded.status, 503);

  // kubelet swaps the mounted Secret: the gateway's retrying connections authenticate with it.
  await secret.update({ password: `${RIGHT}\n` });
  await waitFor(async () => (await fetchFresh(url, pki, '/readyz')).status === 200, { timeoutMs: 15_000, what: 'the gateway to be ready' });
  const served = await fetchFresh(url, pki, '/clusters/org-acme:proj-x/api/v1/namespaces', 'alice-token');
  assert.equal(served.status, 200, served.body);
  assert.deepEqual(JSON.parse(served.body), { kind: 'Echo', url: '/clusters/projx/api/v1/namespaces', user: 'alice' });
  assert.deepEqual(
    allLogged(serve.lines, 'Redis secret file changed; new connections use it').map((e) => e['file']),
    [secret.path('password')],
  );
  assert.ok(logged(serve.lines, 'routing table: Redis connection works again'));
  // The rate limiter shares the connection settings: it registered itself under the ACL user.
  await waitFor(async () => (await admin.client.zcard('kcp-edge:{replicas}')) === 1, { what: 'the limiter to register in Redis' });
  const metrics = (await fetchFresh(adminUrl(started), pki, '/metrics', ADMIN_TOKEN)).body;
  assert.match(metrics, /kcp_edge_ratelimit_local_fallback 0/);

  const everything = [serve.lines.join('\n'), metrics, check.stdout, check.stderr].join('\n');
  for (const password of passwords) assert.ok(!everything.includes(password), 'a password was shown');
  assert.ok(serve.lines.length > 5, 'the log was read');
});

test('serve --check: credential settings are validated with the rest, and a password in the URL is never echoed', async (t) => {
  const pki = await testPki();
  const dir = await serveDir(t, pki, 'https://127.0.0.1:1', [], { empty: '\n', 'ca.pem': 'not a certificate' });
  const file = join(dir, 'gateway.yaml');
  const lines = [
    'tls: { certFile: serving.crt, keyFile: serving.key }',
    'upstream: { clientCertFile: client.crt, clientKeyFile: client.key }',
    'routing:',
    '  redis:',
    `    url: "redis://kcp-edge:${RIGHT}@redis.example:6379"`,
    '    passwordFile: empty',
    '    sentinelPasswordFile: missing',
    '    tls: { caFile: ca.pem, keyFile: client.key }',
  ];
  await writeFile(file, lines.join('\n'));
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'serve', '--config', file, '--check']), (err: { code: number; stdout: string; stderr: string }) => {
    assert.equal(err.code, 1);
    const reported = err.stderr
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.replace(`${file}:`, '').trim());
    assert.deepEqual(reported, [
      `6:19: routing.redis.passwordFile: the URL carries a password already: remove it from the URL`,
      `6:19: routing.redis.passwordFile: ${join(dir, 'empty')} is empty`,
      `7:27: routing.redis.sentinelPasswordFile: applies to redis+sentinel:// URLs only`,
      `7:27: routing.redis.sentinelPasswordFile: cannot read ${join(dir, 'missing')}: no such file`,
      `8:10: routing.redis.tls: applies to rediss:// URLs only: the scheme turns TLS on`,
      `8:10: routing.redis.tls.certFile: a client certificate needs both a certificate file and a key file`,
      `8:20: routing.redis.tls.caFile: ${join(dir, 'ca.pem')} does not contain a PEM certificate`,
    ]);
    assert.ok(!err.stderr.includes(RIGHT));
    return true;
  });
  // A URL that does not parse is quoted in the error, without its password.
  await writeFile(file, [...lines.slice(0, 4), `    url: "redis://kcp-edge:${RIGHT}@redis.example:port"`].join('\n'));
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'serve', '--config', file, '--check']), (err: { stderr: string }) => {
    assert.match(err.stderr, /routing\.redis\.url: invalid Redis URL "redis:\/\/kcp-edge:\*\*\*@redis\.example:port"/);
    assert.ok(!err.stderr.includes(RIGHT));
    return true;
  });
});
