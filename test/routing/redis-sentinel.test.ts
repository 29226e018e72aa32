// Sentinel with credentials of its own: the master requires one password, the sentinel another
// (Redis 5.0.1+ sentinels take `requirepass`; ioredis sends sentinelUsername/sentinelPassword to them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { applyRedisAuth, type RedisAuthSettings } from '../../src/routing/redis-auth-settings.ts';
import { whyFailed } from '../../src/routing/cli/common.ts';
import { classifyRedisError, parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis, startSentinel, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const MASTER = 'master-pw-Vc3nLx8e';
const SENTINEL = 'sentinel-pw-Pq5wHs2k';

let master: RedisServer;
let sentinel: RedisServer;
let files: Awaited<ReturnType<typeof makeTempDir>>;
const file = (name: string) => join(files.dir, name);

before(async () => {
  files = await makeTempDir();
  await writeFile(file('master'), `${MASTER}\n`);
  await writeFile(file('sentinel'), `${SENTINEL}\n`);
  master = await startRedis({ args: ['--requirepass', MASTER] });
  sentinel = await startSentinel({ master, masterPassword: MASTER, password: SENTINEL });
});
after(async () => {
  await sentinel[Symbol.asyncDispose]();
  await master[Symbol.asyncDispose]();
  await files[Symbol.asyncDispose]();
});

async function roundTrip(settings: RedisAuthSettings): Promise<string> {
  const { connection, problems } = applyRedisAuth(parseRedisUrl(sentinel.url), settings);
  assert.deepEqual(problems, []);
  const store = RedisRouteStore.connect(connection, { noRetry: true });
  try {
    await store.putShard({ name: 'via-sentinel', url: 'https://s.example:6443', state: 'active', labels: {} });
    return 'ok';
  } catch (err) {
    return (whyFailed(err, store) as Error).message;
  } finally {
    await store.close();
  }
}

test('the master password and the sentinel password, each from its file', async () => {
  assert.equal(await roundTrip({ passwordFile: file('master'), sentinelPasswordFile: file('sentinel') }), 'ok');
});

test('without the sentinel password the sentinel refuses, and a one-shot command says so instead of retrying forever', async () => {
  const started = Date.now();
  const outcome = await roundTrip({ passwordFile: file('master') });
  assert.match(outcome, /^All sentinels are unreachable.*Last error: NOAUTH/);
  assert.equal(classifyRedisError(outcome), 'credentials');
  assert.ok(Date.now() - started < 10_000);
  // The wrong master password, with the right sentinel one: the master refuses.
  await writeFile(file('wrong'), 'nope\n');
  assert.match(await roundTrip({ passwordFile: file('wrong'), sentinelPasswordFile: file('sentinel') }), /WRONGPASS/);
});

test('the operator commands take --redis-sentinel-password-file', async () => {
  const { stdout } = await run(process.execPath, [
    'src/cli.ts',
    'shards',
    'list',
    '-o',
    'json',
    '--redis',
    sentinel.url,
    '--redis-password-file',
    file('master'),
    '--redis-sentinel-password-file',
    file('sentinel'),
  ]);
  assert.ok((JSON.parse(stdout) as { name: string }[]).some((s) => s.name === 'via-sentinel'));
  await assert.rejects(
    run(process.execPath, ['src/cli.ts', 'shards', 'list', '--redis', master.url, '--redis-sentinel-password-file', file('sentinel')]),
    (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /--redis-sentinel-password-file: applies to redis\+sentinel:\/\/ URLs only/);
      return true;
    },
  );
});
