// The command line's Redis connection (--redis-* flags and KCP_EDGE_REDIS_* variables) and the
// followed secret files behind it, without a server.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { redisConnectionFromFlags, RedisFlagError } from '../../src/routing/redis-flags.ts';
import { onSecretFileEvent, openSecretFile, passwordFromFile, type SecretFileEvent } from '../../src/routing/redis-secret-files.ts';
import { mountedSecret } from '../helpers/mounted-secret.ts';
import { waitFor } from '../helpers/wait.ts';

test('flags win over their variables, file paths are made absolute, and no URL means no connection', () => {
  assert.equal(redisConnectionFromFlags({ values: {}, env: { KCP_EDGE_REDIS_PASSWORD_FILE: '/p' } }), undefined);
  const connection = redisConnectionFromFlags({
    values: { redis: 'rediss://r:6380', 'redis-ca-file': 'ca.crt', 'redis-user': 'from-flag' },
    env: { KCP_EDGE_REDIS_URL: 'redis://ignored:1', KCP_EDGE_REDIS_USER: 'from-env', KCP_EDGE_REDIS_PASSWORD_FILE: 'pw', KCP_EDGE_REDIS_SERVER_NAME: 'r.internal' },
  });
  assert.deepEqual(connection, {
    mode: 'standalone',
    nodes: [{ host: 'r', port: 6380 }],
    keyPrefix: 'kcp-edge:',
    username: 'from-flag',
    passwordFile: resolve('pw'),
    tls: { caFile: resolve('ca.crt'), serverName: 'r.internal' },
  });
  // serve passes no environment: the variables are not read.
  assert.equal(redisConnectionFromFlags({ values: {} }), undefined);
});

test('contradictions name the flag or variable they came from', () => {
  const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{ redis: 'redis://r', 'redis-ca-file': 'ca' }, {}, /^--redis-ca-file: applies to rediss:\/\/ URLs only/],
    [{ redis: 'redis://r' }, { KCP_EDGE_REDIS_SERVER_NAME: 'x' }, /^KCP_EDGE_REDIS_SERVER_NAME: applies to rediss:\/\/ URLs only/],
    [{ redis: 'rediss://r', 'redis-key-file': 'k' }, {}, /^--redis-cert-file: a client certificate needs both/],
    [{ redis: 'redis://u:secret@r', 'redis-password-file': 'p' }, {}, /^--redis-password-file: the URL carries a password already/],
    [{ redis: 'redis://r', 'redis-sentinel-user': 's' }, {}, /^--redis-sentinel-user: applies to redis\+sentinel:\/\/ URLs only/],
    [{ redis: 'redis://r', 'redis-user': '' }, {}, /^--redis-user: must not be empty/],
    [{}, { KCP_EDGE_REDIS_URL: 'redis://:secret@r:port' }, /^KCP_EDGE_REDIS_URL: invalid Redis URL "redis:\/\/:\*\*\*@r:port"/],
  ];
  for (const [values, env, expected] of cases) {
    assert.throws(
      () => redisConnectionFromFlags({ values, env }),
      (err: Error) => err instanceof RedisFlagError && expected.test(err.message) && !err.message.includes('secret'),
      `${JSON.stringify(values)} ${JSON.stringify(env)}`,
    );
  }
});

test('a followed secret file: a kubelet swap is seen, an empty or missing file keeps the last content', async (t) => {
  await using secret = await mountedSecret({ password: 'one\n' });
  const events: SecretFileEvent[] = [];
  t.after(onSecretFileEvent((e) => events.push(e)));
  const a = openSecretFile(secret.path('password'));
  const b = openSecretFile(secret.path('password'));
  t.after(() => (a.release(), b.release()));
  assert.equal(passwordFromFile(a.text), 'one');

  await secret.update({ password: 'two\r\n' });
  await waitFor(() => a.text === 'two\r\n', { what: 'the swap to be seen' });
  assert.equal(passwordFromFile(b.text), 'two', 'one watch, every user sees it');
  await secret.update({ password: '' });
  await waitFor(() => events.some((e) => e.outcome === 'kept'), { what: 'the empty file to be refused' });
  assert.equal(a.text, 'two\r\n');
  assert.deepEqual(
    events.filter((e) => e.file !== secret.path('password')),
    [],
  );

  assert.throws(() => openSecretFile(`${secret.dir}/missing`), /cannot read .*missing: no such file/);
  await secret.update({ password: '   \n' });
  assert.throws(() => openSecretFile(`${secret.dir}/..data/password`), /is empty/);
});
