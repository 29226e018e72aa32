import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { RedisRoutingTable } from '../../src/routing/redis-routing-table.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const execFileAsync = promisify(execFile);
let redis: RedisServer;
let store: RedisRouteStore;

before(async () => {
  redis = await startRedis();
  store = RedisRouteStore.connect(parseRedisUrl(redis.url));
});
after(async () => {
  await store.close();
  await redis[Symbol.asyncDispose]();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = { KCP_EDGE_REDIS_URL: redis.url }): Promise<Outcome> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['src/cli.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('shards are added, listed in every format, cordoned and drained', async () => {
  assert.equal((await cli(['shards', 'add', 'east', '--url', 'https://east.example:6443/', '--label', 'region=us-east'])).code, 0);
  assert.equal((await cli(['shards', 'add', 'west', '--url', 'https://west.example:6443', '--redis', redis.url], {})).code, 0);
  assert.equal((await cli(['routes', 'set', 'org:app', '--shard', 'east', '--cluster', 'app1'])).code, 0);
  assert.equal((await cli(['shards', 'cordon', 'west'])).code, 0);

  const json = JSON.parse((await cli(['shards', 'list', '-o', 'json'])).stdout) as { name: string; url: string; state: string; routes: number; labels: Record<string, string> }[];
  const east = json.find((s) => s.name === 'east');
  assert.deepEqual(
    { url: east?.url, state: east?.state, routes: east?.routes, labels: east?.labels },
    { url: 'https://east.example:6443', state: 'active', routes: 1, labels: { region: 'us-east' } },
  );
  assert.equal(json.find((s) => s.name === 'west')?.state, 'cordoned');

  const yaml = parse((await cli(['shards', 'list', '--output', 'yaml'])).stdout) as { name: string }[];
  assert.deepEqual(
    yaml.map((s) => s.name),
    ['east', 'west'],
  );
  const table = (await cli(['shards', 'list'])).stdout.split('\n');
  assert.match(table[0]!, /^NAME\s+URL\s+STATE\s+HEALTH\s+ROUTES\s+LABELS$/);
  assert.match(table.find((l) => l.startsWith('west')) ?? '', /cordoned\s+unknown\s+0/);

  assert.equal((await cli(['shards', 'drain', 'west'])).code, 0);
  assert.equal((await store.getShard('west'))?.state, 'draining');
  assert.equal((await cli(['shards', 'uncordon', 'west'])).code, 0);
  assert.equal((await store.getShard('west'))?.state, 'active');
});

test('invalid operations fail on stderr with a non-zero exit and change nothing', async () => {
  await store.putShard({ name: 'keep', url: 'https://keep.example', state: 'active', labels: {} });
  await store.putRoute({ path: 'root:kept', shard: 'keep', cluster: 'kept1', phase: 'Ready' });
  const cases: { args: string[]; env?: Record<string, string>; code: number; stderr: RegExp }[] = [
    { args: ['routes', 'set', 'org:x', '--shard', 'ghost', '--cluster', 'x1'], code: 1, stderr: /shard "ghost" is not registered/ },
    { args: ['routes', 'set', 'org:x', '--shard', 'keep'], code: 2, stderr: /--cluster is required/ },
    { args: ['routes', 'set', 'org:UPPER', '--shard', 'keep', '--cluster', 'u1'], code: 1, stderr: /invalid workspace path/ },
    { args: ['routes', 'get', 'org:nothing'], code: 1, stderr: /"org:nothing" not found/ },
    { args: ['shards', 'remove', 'keep'], code: 1, stderr: /still holds 1 workspace/ },
    { args: ['shards', 'remove', 'ghost'], code: 1, stderr: /"ghost" not found/ },
    { args: ['shards', 'add', 'Bad_Name', '--url', 'https://x'], code: 2, stderr: /invalid shard name/ },
    { args: ['shards', 'add', 'nourl'], code: 2, stderr: /--url is required/ },
    { args: ['shards', 'explode'], code: 2, stderr: /unknown subcommand "explode"/ },
    { args: ['routes', 'list', '-o', 'xml'], code: 2, stderr: /--output must be json, yaml or table/ },
    { args: ['routes', 'list'], env: {}, code: 2, stderr: /pass --redis URL or set KCP_EDGE_REDIS_URL/ },
    { args: ['routes', 'list', '--redis', 'redis://127.0.0.1:1'], env: {}, code: 1, stderr: /cannot reach Redis/ },
  ];
  for (const c of cases) {
    const out = await cli(c.args, c.env);
    assert.equal(out.code, c.code, `${c.args.join(' ')}: exit ${out.code}, stderr ${out.stderr}`);
    assert.match(out.stderr, c.stderr, c.args.join(' '));
  }
  assert.equal(await store.getRoute('root:x'), undefined);
  assert.ok(await store.getShard('keep'));
  assert.equal((await cli(['shards', 'remove', 'keep', '--force'])).code, 0);
  assert.equal(await store.getShard('keep'), undefined);
});

test('routes set by the CLI reaches a running replica within 100 ms', async (t) => {
  await store.putShard({ name: 'one', url: 'https://one.example', state: 'active', labels: {} });
  await store.putShard({ name: 'two', url: 'https://two.example', state: 'active', labels: {} });
  await store.putRoute({ path: 'root:org:moving', shard: 'one', cluster: 'mv1', phase: 'Ready' });
  const table = new RedisRoutingTable({ redis: parseRedisUrl(redis.url) });
  t.after(() => table.close());
  await table.waitUntilSynced();
  assert.equal((await table.resolve('root:org:moving'))?.shard.name, 'one');

  const out = await cli(['routes', 'set', 'root:org:moving', '--shard', 'two', '--cluster', 'mv2']);
  assert.equal(out.code, 0, out.stderr);
  await waitFor(async () => (await table.resolve('root:org:moving'))?.shard.name === 'two', { timeoutMs: 100, intervalMs: 2, what: 'CLI change on the replica' });

  assert.equal((await cli(['routes', 'delete', 'org:moving'])).code, 0);
  await waitFor(async () => (await table.resolve('root:org:moving')) === undefined, { timeoutMs: 100, intervalMs: 2, what: 'CLI deletion on the replica' });
});

test('routes import loads YAML with shards and NDJSON, and a bad line writes nothing', async () => {
  await using tmp = await makeTempDir();
  const yamlFile = join(tmp.dir, 'routes.yaml');
  await writeFile(
    yamlFile,
    [
      'shards:',
      '  - {name: imp, url: "https://imp.example:6443"}',
      'routes:',
      '  - {path: "org-i:a", shard: imp, cluster: ia}',
      '  - {path: "root:org-i:b", shard: imp, cluster: ib, phase: Moving}',
      '',
    ].join('\n'),
  );
  const y = await cli(['routes', 'import', yamlFile]);
  assert.equal(y.code, 0, y.stderr);
  assert.match(y.stdout, /imported 2 route\(s\) and 1 shard\(s\)/);
  assert.equal(y.stderr, '', 'no progress bar when stderr is not a terminal');
  assert.equal((await store.getRoute('ib'))?.phase, 'Moving');

  const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ path: `root:bulk:w${i}`, shard: 'imp', cluster: `bulk${i}` }));
  const ndjson = join(tmp.dir, 'bulk.ndjson');
  await writeFile(ndjson, lines.join('\n') + '\n');
  const n = await cli(['routes', 'import', ndjson, '--batch', '300']);
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /imported 2500 route/);
  assert.equal((await store.countRoutesByShard()).imp, 2502);

  const bad = join(tmp.dir, 'bad.ndjson');
  await writeFile(
    bad,
    [JSON.stringify({ path: 'root:bad:first', shard: 'imp', cluster: 'bf' }), JSON.stringify({ path: 'root:bad:second', shard: 'nowhere', cluster: 'bs' })].join('\n'),
  );
  const b = await cli(['routes', 'import', bad]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /bad\.ndjson:2: shard "nowhere" is not registered/);
  assert.equal(await store.getRoute('root:bad:first'), undefined);

  const listed = JSON.parse((await cli(['routes', 'list', '--under', 'org-i', '-o', 'json'])).stdout) as { path: string }[];
  assert.deepEqual(
    listed.map((r) => r.path),
    ['root:org-i:a', 'root:org-i:b'],
  );
});
