// Credentials against a real redis-server that requires them: the `default` user's password
// (requirepass) and an ACL user, both from files; wrong ones fail fast and say so; a password rotated
// on the server and in the (kubelet-style) mounted file is picked up on reconnect without a restart.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { applyRedisAuth, type RedisAuthSettings } from '../../src/routing/redis-auth-settings.ts';
import { parseRedisUrl, type RedisConnectionConfig } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { mountedSecret, type MountedSecret } from '../helpers/mounted-secret.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { recordingLog } from '../helpers/log.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
// Distinctive, so that finding one in any output is never a coincidence.
const ADMIN = 'admin-Zq8sGv3r';
const FIRST = 'first-Kx7pWm2d';
const SECOND = 'second-Hn4tRb9c';

let redis: RedisServer;
let admin: Redis;
let secret: MountedSecret;

before(async () => {
  redis = await startRedis({ args: ['--requirepass', ADMIN] });
  admin = new Redis({ port: redis.port, host: '127.0.0.1', password: ADMIN });
  secret = await mountedSecret({ 'admin-password': `${ADMIN}\n`, password: `${FIRST}\n`, wrong: 'not-it\n' });
});
after(async () => {
  admin.disconnect();
  await secret[Symbol.asyncDispose]();
  await redis[Symbol.asyncDispose]();
});

/** An ACL user with what the gateway needs: every key of the table and the change channel. */
async function aclUser(name: string, password: string): Promise<void> {
  await admin.call('ACL', 'SETUSER', name, 'reset', 'on', `>${password}`, '~*', '&*', '+@all');
}

function connection(settings: RedisAuthSettings, url = redis.url): RedisConnectionConfig {
  const { connection, problems } = applyRedisAuth(parseRedisUrl(url), settings);
  assert.deepEqual(problems, []);
  return connection;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(process.execPath, ['src/cli.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - started };
  }
}

test("the default user's password (requirepass) from a file: the trailing newline is not part of it", async () => {
  const store = RedisRouteStore.connect(connection({ passwordFile: secret.path('admin-password') }), { noRetry: true });
  try {
    await store.putShard({ name: 'by-requirepass', url: 'https://a.example:6443', state: 'active', labels: {} });
    assert.ok((await store.listShards()).some((s) => s.name === 'by-requirepass'));
  } finally {
    await store.close();
  }
});

test('an ACL user with a password file; without credentials, or with wrong ones, commands fail at once and say why', async () => {
  await aclUser('edge', FIRST);
  const good = RedisRouteStore.connect(connection({ username: 'edge', passwordFile: secret.path('password') }), { noRetry: true });
  try {
    await good.putShard({ name: 'by-acl-user', url: 'https://b.example:6443', state: 'active', labels: {} });
  } finally {
    await good.close();
  }
  for (const [settings, expected] of [
    [{}, /^NOAUTH/],
    [{ username: 'edge', passwordFile: secret.path('wrong') }, /^WRONGPASS/],
    [{ username: 'nobody', passwordFile: secret.path('password') }, /^WRONGPASS/],
  ] as const) {
    const store = RedisRouteStore.connect(connection(settings), { noRetry: true });
    try {
      await assert.rejects(store.listShards(), { message: expected });
    } finally {
      await store.close();
    }
  }
});

test('the operator commands take --redis-user and --redis-password-file (or their variables) and explain a refusal', async () => {
  const flags = ['--redis', redis.url, '--redis-user', 'edge', '--redis-password-file', secret.path('password')];
  await aclUser('edge', FIRST);
  const listed = await cli(['shards', 'list', '-o', 'json', ...flags]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok((JSON.parse(listed.stdout) as { name: string }[]).some((s) => s.name === 'by-acl-user'));

  const viaEnv = await cli(['routes', 'list'], { KCP_EDGE_REDIS_URL: redis.url, KCP_EDGE_REDIS_USER: 'edge', KCP_EDGE_REDIS_PASSWORD_FILE: secret.path('password') });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);

  const refused = await cli(['shards', 'list', '--redis', redis.url, '--redis-user', 'edge', '--redis-password-file', secret.path('wrong')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^kcp-edge shards: Redis refused the credentials \(--redis-user, --redis-password-file\): WRONGPASS/);
  assert.ok(refused.ms < 10_000, `failed after ${refused.ms} ms: a refusal must not wait`);

  const missing = await cli(['shards', 'list', '--redis', redis.url, '--redis-password-file', `${secret.dir}/nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope: no such file/);

  // A password in the URL still works, but is never echoed back; a file beside it is a contradiction.
  const inUrl = await cli(['shards', 'list', '--redis', `redis://edge:${FIRST}@127.0.0.1:${redis.port}:bad`]);
  assert.equal(inUrl.code, 2);
  assert.match(inUrl.stderr, /invalid Redis URL "redis:\/\/edge:\*\*\*@127\.0\.0\.1/);
  const both = await cli(['shards', 'list', '--redis', `redis://edge:${FIRST}@127.0.0.1:${redis.port}`, '--redis-password-file', secret.path('password')]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--redis-password-file: the URL carries a password already/);
  for (const out of [refused, missing, inUrl, both]) {
    for (const password of [ADMIN, FIRST]) assert.ok(!out.stderr.includes(password) && !out.stdout.includes(password), `password in: ${out.stderr}`);
  }
});

test('a password rotated on the server and in the mounted Secret is used on reconnect, without a restart', async (t) => {
  const rotating = await mountedSecret({ password: `${FIRST}\n` });
  t.after(() => rotating[Symbol.asyncDispose]());
  await aclUser('rotating', FIRST);
  const log = recordingLog();
  const table = new RedisRoutingTable({ redis: connection({ username: 'rotating', passwordFile: rotating.path('password') }), log });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const store = RedisRouteStore.connect(connection({ passwordFile: secret.path('admin-password') }));
  t.after(() => store.close());
  await store.putShard({ name: 'rot', url: 'https://rot.example:6443', state: 'active', labels: {} });
  await store.putRoute({ path: 'root:rot:one', shard: 'rot', cluster: 'rot1', phase: 'Ready' });
  assert.equal((await table.resolve('root:rot:one'))?.route.cluster, 'rot1');

  // The server side first: the connections already authenticated stay so; the next ones need the new password.
  await admin.call('ACL', 'SETUSER', 'rotating', 'resetpass', `>${SECOND}`);
  await admin.call('CLIENT', 'KILL', 'USER', 'rotating');
  await waitFor(() => log.entries.some((e) => e.level === 'error' && /refused the credentials/.test(e.msg)), { what: 'the refusal to be logged' });
  assert.equal(table.ready(), true, 'warm routes keep it ready');
  await assert.rejects(table.resolve('root:rot:two'), (err) => isGatewayError(err) && err.code === 'ROUTING_UNAVAILABLE');
  assert.match(table.lastError ?? '', /^WRONGPASS/);

  // Then the Secret: kubelet swaps the mounted directory; the next reconnect authenticates.
  await store.putRoute({ path: 'root:rot:two', shard: 'rot', cluster: 'rot2', phase: 'Ready' });
  await rotating.update({ password: `${SECOND}\n` });
  const resolved = await waitFor(async () => (await table.resolve('root:rot:two'))?.route.cluster, { timeoutMs: 15_000, what: 'a lookup with the rotated password' });
  assert.equal(resolved, 'rot2');
  assert.equal(table.lastError, undefined);
  assert.ok(log.entries.some((e) => e.msg === 'routing table: Redis connection works again'));

  // The other order (file first, then the server) needs nothing more: the file is read at each connect.
  await rotating.update({ password: FIRST });
  await admin.call('ACL', 'SETUSER', 'rotating', 'resetpass', `>${FIRST}`);
  await admin.call('CLIENT', 'KILL', 'USER', 'rotating');
  await store.putRoute({ path: 'root:rot:three', shard: 'rot', cluster: 'rot3', phase: 'Ready' });
  assert.equal(await waitFor(async () => (await table.resolve('root:rot:three'))?.route.cluster, { timeoutMs: 15_000, what: 'a lookup after the second rotation' }), 'rot3');

  const logged = JSON.stringify(log.entries);
  for (const password of [FIRST, SECOND]) assert.ok(!logged.includes(password), `password in the log: ${logged}`);
});

test('a Redis URL is shown without its password, in messages and in the config value for logs', () => {
  for (const [url, shown] of [
    [`redis://:${FIRST}@h:6379/0`, 'redis://:***@h:6379/0'],
    [`rediss://edge:${FIRST}@h:6380`, 'rediss://edge:***@h:6380'],
    [`redis+sentinel://${FIRST}@s1,s2/m`, 'redis+sentinel://***@s1,s2/m'],
    [`redis://u:p@ss:${FIRST}@h`, 'redis://u:***@h'],
    ['redis://h:6379', 'redis://h:6379'],
  ] as const) {
    assert.equal(parseRedisUrlShown(url), shown);
  }
  for (const bad of [`redis://:${FIRST}@h:port`, `redis://:${FIRST}@/x`, `redis+sentinel://:${FIRST}@h:1`, `redis+cluster://:${FIRST}@h:1/3`, `redis://:%E0${FIRST}@h`]) {
    assert.throws(
      () => parseRedisUrl(bad),
      (err: Error) => !err.message.includes(FIRST) && /invalid Redis URL/.test(err.message),
      bad,
    );
  }
});

function parseRedisUrlShown(url: string): string {
  // Via a parse error, the path every message about a URL takes.
  try {
    parseRedisUrl(`${url}/not/a/db`);
  } catch (err) {
    return /"([^"]*)\/not\/a\/db"/.exec((err as Error).message)?.[1] ?? '';
  }
  throw new Error(`${url}: expected a parse error`);
}

test('Redis Cluster: every node connection takes the password from the file, rotated ones included', async (t) => {
  const CLUSTER_FIRST = 'cluster-first-Wd2mXq7a';
  const CLUSTER_SECOND = 'cluster-second-Rt5kPz3v';
  // A lone node knows no address of its own to announce (CLUSTER SLOTS would name none): tell it.
  const node = await startRedis({
    args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1', '--requirepass', CLUSTER_FIRST],
  });
  t.after(() => node[Symbol.asyncDispose]());
  const nodeAdmin = new Redis({ port: node.port, host: '127.0.0.1', password: CLUSTER_FIRST });
  t.after(() => nodeAdmin.disconnect());
  // One node holding every slot is a whole cluster.
  await nodeAdmin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await waitFor(async () => /cluster_state:ok/.test(String(await nodeAdmin.call('CLUSTER', 'INFO'))), { what: 'the cluster to be ok' });

  const mounted = await mountedSecret({ password: `${CLUSTER_FIRST}\n` });
  t.after(() => mounted[Symbol.asyncDispose]());
  const cluster = connection({ passwordFile: mounted.path('password') }, `redis+cluster://127.0.0.1:${node.port}`);
  const log = recordingLog();
  const table = new RedisRoutingTable({ redis: cluster, log });
  t.after(() => table.close());
  await table.waitUntilSynced();
  const store = RedisRouteStore.connect(cluster);
  t.after(() => store.close());
  await store.putShard({ name: 'c', url: 'https://c.example:6443', state: 'active', labels: {} });
  await store.putRoute({ path: 'root:c:one', shard: 'c', cluster: 'c1', phase: 'Ready' });
  assert.equal((await table.resolve('root:c:one'))?.route.cluster, 'c1');
  // Not looked up yet: only a connection that authenticates can find it.
  await store.putRoute({ path: 'root:c:two', shard: 'c', cluster: 'c2', phase: 'Ready' });

  await nodeAdmin.config('SET', 'requirepass', CLUSTER_SECOND);
  await nodeAdmin.call('CLIENT', 'KILL', 'TYPE', 'normal');
  await nodeAdmin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await waitFor(() => log.entries.some((e) => /refused the credentials/.test(e.msg)), { what: 'the refusal to be logged' });
  await mounted.update({ password: `${CLUSTER_SECOND}\n` });
  await waitFor(async () => (await table.resolve('root:c:two'))?.route.cluster === 'c2', {
    timeoutMs: 15_000,
    what: 'the cluster clients to authenticate with the rotated password',
  });
  assert.ok(!JSON.stringify(log.entries).includes(CLUSTER_FIRST));
});
