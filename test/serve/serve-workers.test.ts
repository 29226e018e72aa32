// `kcp-edge serve` with two worker processes, as real processes: both serve on one ephemeral port, the
// access log (each line carries the pid of the process that served it) shows which, /metrics on either
// counts for the whole group, a killed worker comes back, SIGTERM drains, and the in-memory rate limits
// hold for the group rather than per worker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startTestShard, testPki, type Pki, type ShardHandler } from '../gateway/fixtures.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { ADMIN_TOKEN, adminUrl, allLogged, fetchFresh, logged, serveDir, startServe, type LogEntry, type ServeProcess } from './serve-fixtures.ts';

const WORKSPACE = '/clusters/org-acme:proj-x/api/v1/namespaces';

async function serving(serve: ServeProcess): Promise<{ url: string; admin: string; workerPids: number[] }> {
  const entry = await waitFor(() => logged(serve.lines, 'kcp-edge gateway serving'), { what: 'the gateway to serve', timeoutMs: 60_000 });
  const workerPids = entry['workerPids'] as number[];
  assert.equal(workerPids.length, 2);
  assert.equal(new Set(workerPids).size, 2);
  assert.ok(!workerPids.includes(serve.child.pid!), 'the workers are other processes than the one started');
  return { url: String(entry['url']), admin: adminUrl(entry), workerPids };
}

/** Access-log entries of workspace requests (not /metrics), counted per serving process. */
function servedBy(lines: string[], filter: (entry: LogEntry) => boolean = () => true): Map<number, number> {
  const counts = new Map<number, number>();
  for (const entry of allLogged(lines, 'request')) {
    if (String(entry['path']).startsWith('/clusters/') && filter(entry)) counts.set(entry['pid'] as number, (counts.get(entry['pid'] as number) ?? 0) + 1);
  }
  return counts;
}

function sum(counts: Map<number, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function sendAll(url: string, pki: Pki, paths: string[], batch = 10): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < paths.length; i += batch) {
    const replies = await Promise.all(paths.slice(i, i + batch).map((p) => fetchFresh(url, pki, p, 'alice-token')));
    statuses.push(...replies.map((r) => r.status));
  }
  return statuses;
}

test('workers: 2 serve one ephemeral port together, /metrics on either counts for both, and SIGTERM drains both', async (t) => {
  const pki = await testPki();
  // `…/slow` answers after a while: requests still in flight when the drain starts. A watch stays
  // open until the gateway lets go of it.
  const slowOrEcho: ShardHandler = (_req, res, seen) => {
    if (seen.url.includes('watch=1')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"BOOKMARK","object":{"kind":"Namespace","apiVersion":"v1","metadata":{"resourceVersion":"1"}}}\n');
      return;
    }
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Echo', url: seen.url }));
    };
    if (seen.url.endsWith('/slow')) setTimeout(answer, 500);
    else answer();
  };
  const shard = await startTestShard(t, pki, slowOrEcho);
  const dir = await serveDir(t, pki, shard.url, ['workers: 2']);
  const serve = startServe(t, dir);
  const { url, admin, workerPids } = await serving(serve);

  const statuses = await sendAll(
    url,
    pki,
    Array.from({ length: 40 }, () => WORKSPACE),
  );
  assert.deepEqual(statuses, Array(40).fill(200));
  const served = await waitFor(
    () => {
      const counts = servedBy(serve.lines);
      return sum(counts) === 40 && counts;
    },
    { what: 'an access-log line for each request' },
  );
  // Connections were spread by the kernel: each worker served some (all 40 on one: odds 2^-39).
  assert.deepEqual([...served.keys()].sort(), [...workerPids].sort());

  // Watches held open by the shard: each worker holds some (16 on one alone: odds 2^-15).
  const watches = Promise.all(Array.from({ length: 16 }, () => fetchFresh(url, pki, `${WORKSPACE}?watch=1`, 'alice-token')));
  await waitFor(() => shard.seen.filter((s) => s.url.includes('watch=1')).length === 16, { what: 'the watches to reach the shard' });

  // Scrapes land on either worker (told apart by the Audit-ID each sends and the access log echoes);
  // each counts what both did: the requests, and the watches open now.
  const scrapes = new Map<string, string>();
  const scrapedBy = await waitFor(
    async () => {
      const auditId = `scrape-${scrapes.size}`;
      const reply = await fetchFresh(admin, pki, '/metrics', ADMIN_TOKEN, { 'audit-id': auditId });
      assert.equal(reply.status, 200);
      scrapes.set(auditId, reply.body);
      const by = new Map<number, string>();
      for (const entry of allLogged(serve.lines, 'admin request')) {
        const text = scrapes.get(String(entry['auditID']));
        if (text !== undefined && sample(text, 'kcp_edge_open_watches{shard="a"}') === 16) by.set(entry['pid'] as number, text);
      }
      return by.size === 2 && by;
    },
    { what: 'a scrape of each worker counting every open watch', timeoutMs: 30_000 },
  );
  assert.deepEqual([...scrapedBy.keys()].sort(), [...workerPids].sort());
  // The status page is the answering worker's own: it names that worker, and the two counts add up.
  const statusBy = new Map<number, { worker: { slot: number; count: number } | null; shards: { openWatches: number }[] }>();
  await waitFor(
    async () => {
      const status = JSON.parse((await fetchFresh(admin, pki, '/status.json', ADMIN_TOKEN)).body) as {
        pid: number;
        worker: { slot: number; count: number } | null;
        shards: { openWatches: number }[];
      };
      statusBy.set(status.pid, status);
      return statusBy.size === 2;
    },
    { what: 'the status page from each worker', timeoutMs: 30_000 },
  );
  assert.deepEqual([...statusBy.keys()].sort(), [...workerPids].sort());
  assert.deepEqual(
    [...statusBy.values()].map((s) => s.worker).sort((a, b) => a!.slot - b!.slot),
    [
      { slot: 0, count: 2 },
      { slot: 1, count: 2 },
    ],
  );
  assert.equal(
    [...statusBy.values()].reduce((n, s) => n + s.shards[0]!.openWatches, 0),
    16,
    'each worker counts its own watches, together all of them',
  );
  for (const text of scrapedBy.values()) {
    assert.equal(sample(text, 'kcp_edge_requests_total{shard="a",verb="list",code="200"}'), 40);
    assert.equal(sample(text, 'kcp_edge_workers_serving'), 2);
    assert.equal(sample(text, 'kcp_edge_workers_reporting'), 2);
  }

  // Requests in flight when SIGTERM arrives finish, watches end cleanly (clients re-watch elsewhere);
  // then every worker and the supervisor exit cleanly.
  const slow = Promise.all(Array.from({ length: 6 }, () => fetchFresh(url, pki, `${WORKSPACE}/slow`, 'alice-token')));
  await waitFor(() => shard.seen.filter((s) => s.url.endsWith('/slow')).length === 6, { what: 'the slow requests to reach the shard' });
  serve.child.kill('SIGTERM');
  assert.deepEqual(
    (await slow).map((r) => r.status),
    Array(6).fill(200),
  );
  assert.deepEqual(
    (await watches).map((r) => r.status),
    Array(16).fill(200),
  );
  const [code] = await serve.exited;
  assert.equal(code, 0);
  assert.deepEqual(
    allLogged(serve.lines, 'drained; bye')
      .map((e) => e['pid'])
      .sort(),
    [...workerPids].sort(),
  );
  assert.ok(logged(serve.lines, 'all workers drained; bye'));
});

test('a worker killed with SIGKILL is replaced, and requests keep succeeding meanwhile', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const dir = await serveDir(t, pki, shard.url);
  // The count from the command line this time; the config says nothing about workers.
  const serve = startServe(t, dir, ['--workers', '2']);
  const { url, admin, workerPids } = await serving(serve);
  const [victim, survivor] = workerPids as [number, number];

  process.kill(victim, 'SIGKILL');
  const exit = await waitFor(() => allLogged(serve.lines, 'worker exited unexpectedly; restarting it').find((e) => e['workerPid'] === victim), {
    what: 'the supervisor to notice',
  });
  assert.equal(exit['signal'], 'SIGKILL');
  // While its replacement starts, the other worker takes every connection.
  assert.deepEqual(
    await sendAll(
      url,
      pki,
      Array.from({ length: 20 }, () => WORKSPACE),
    ),
    Array(20).fill(200),
  );

  const again = await waitFor(() => logged(serve.lines, 'worker serving again'), { what: 'the replacement to serve', timeoutMs: 60_000 });
  const replacement = again['workerPid'] as number;
  assert.ok(replacement !== victim && replacement !== survivor);
  await waitFor(
    async () => {
      assert.equal((await fetchFresh(url, pki, WORKSPACE, 'alice-token')).status, 200);
      return servedBy(serve.lines).has(replacement);
    },
    { what: 'the replacement to serve a request', timeoutMs: 30_000 },
  );

  const metrics = (await fetchFresh(admin, pki, '/metrics', ADMIN_TOKEN)).body;
  assert.equal(sample(metrics, 'kcp_edge_worker_restarts_total'), 1);
  assert.equal(sample(metrics, 'kcp_edge_workers_serving'), 2);
});

test('Ctrl-C (SIGINT to the whole process group) drains once; a second one exits at once, workers included', async (t) => {
  const pki = await testPki();
  // Held far longer than the test: the drain can only end by its bound, or by the second signal.
  const held: ShardHandler = (_req, res, seen) => {
    if (seen.url.startsWith('/clusters/')) setTimeout(() => res.end('{}'), 60_000).unref();
    else res.end('ok'); // health probes
  };
  const shard = await startTestShard(t, pki, held);
  const dir = await serveDir(t, pki, shard.url, ['workers: 2']);
  await writeFile(join(dir, 'gateway.yaml'), (await readFile(join(dir, 'gateway.yaml'), 'utf8')).replace('timeoutSeconds: 2', 'timeoutSeconds: 60'));
  const serve = startServe(t, dir, [], { detached: true });
  const { url, workerPids } = await serving(serve);
  const pending = Array.from({ length: 8 }, () => fetchFresh(url, pki, WORKSPACE, 'alice-token').catch(() => undefined));
  await waitFor(() => shard.seen.filter((s) => s.url.startsWith('/clusters/')).length === 8, { what: 'the held requests to reach the shard' });

  // Each worker gets the signal itself and the supervisor's drain request: one drain all the same.
  process.kill(-serve.child.pid!, 'SIGINT');
  await waitFor(() => allLogged(serve.lines, 'draining').length === 3, { what: 'the supervisor and both workers to drain' });
  assert.deepEqual(
    allLogged(serve.lines, 'draining')
      .map((e) => e['pid'])
      .sort(),
    [serve.child.pid!, ...workerPids].sort(),
  );
  assert.equal(allLogged(serve.lines, 'second signal: exiting without waiting for the drain').length, 0, serve.lines.filter((l) => !l.includes('"request"')).join('\n'));

  process.kill(-serve.child.pid!, 'SIGINT');
  const [code] = await serve.exited;
  assert.equal(code, 130);
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  await waitFor(() => workerPids.every(gone), { what: 'the workers to be gone' });
  await Promise.all(pending);
});

test('the in-memory rate limiter of 2 workers admits about the configured burst in total, not twice it', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  // A burst of 20 and almost no refill: with each worker enforcing half, about 20 pass; with each
  // enforcing all of it, 40 would.
  const policy = [
    'priorityLevels:',
    '  - name: tenants',
    '    limits: { rate: 0.1, burst: 20 }',
    'flowSchemas:',
    '  - name: per-user',
    '    precedence: 100',
    '    priorityLevel: tenants',
    '    distinguisher: byUser',
    '    rules:',
    '      - orgs: ["org-*"]',
  ].join('\n');
  const dir = await serveDir(t, pki, shard.url, ['workers: 2', 'rateLimit: { policyFile: ratelimit.yaml }'], { 'ratelimit.yaml': policy });
  const serve = startServe(t, dir);
  const { url, workerPids } = await serving(serve);

  const statuses = await sendAll(
    url,
    pki,
    Array.from({ length: 60 }, () => `${WORKSPACE}/default`),
  );
  const admitted = statuses.filter((s) => s === 200).length;
  assert.equal(admitted + statuses.filter((s) => s === 429).length, 60);
  assert.ok(admitted >= 20 && admitted <= 22, `admitted ${admitted} of 60`);
  const logged200 = await waitFor(
    () => {
      const counts = servedBy(serve.lines, (e) => e['code'] === 200);
      return sum(counts) === admitted && counts;
    },
    { what: 'the access log of the admitted requests' },
  );
  const logged429 = servedBy(serve.lines, (e) => e['code'] === 429);
  for (const pid of workerPids) {
    // Each worker admitted its half of the burst (10) and refused what came after.
    assert.ok((logged200.get(pid) ?? 0) >= 10 && (logged200.get(pid) ?? 0) <= 11, `worker ${pid} admitted ${logged200.get(pid)}`);
    assert.ok((logged429.get(pid) ?? 0) > 0, `worker ${pid} refused none`);
  }
});

test('with Redis, each worker is a rate-limit replica of its own and only the first contends for the indexer lease', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  await using redis = await startRedis();
  const dir = await serveDir(t, pki, shard.url, ['workers: 2', 'rateLimit: {}']);
  // The shared routing store instead of the embedded one, with the leased indexer on.
  const config = join(dir, 'gateway.yaml');
  // Seeded from gateway.yaml: the table is empty, so the indexer registers this shard.
  const routing = `routing: { redis: { url: "${redis.url}", runIndexer: true, seedShards: [{ name: seeded, url: "${shard.url}", labels: { from: config } }] } }`;
  await writeFile(config, (await readFile(config, 'utf8')).replace(/^routing: .*$/m, routing));
  const serve = startServe(t, dir);
  const { admin, workerPids } = await serving(serve);
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());

  // Registered by pid: the Redis-down fallback divides each limit by both workers (and other replicas).
  const replicas = await waitFor(
    async () => {
      const members = await client.zrange('kcp-edge:{replicas}', '0', '-1');
      return members.length === 2 && members;
    },
    { what: 'both workers to register' },
  );
  assert.deepEqual(replicas.map((m) => Number(/-(\d+)-[0-9a-f]+$/.exec(m)?.[1])).sort(), [...workerPids].sort());
  const metrics = await waitFor(
    async () => {
      const text = (await fetchFresh(admin, pki, '/metrics', ADMIN_TOKEN)).body;
      return sample(text, 'kcp_edge_ratelimit_known_replicas') === 2 && text;
    },
    { what: 'the workers to learn of each other' },
  );
  assert.equal(sample(metrics, 'kcp_edge_ratelimit_local_fallback'), 0);
  // The status page says how many replicas Redis knows (as the answering worker last counted them).
  await waitFor(async () => (JSON.parse((await fetchFresh(admin, pki, '/status.json', ADMIN_TOKEN)).body) as { replicasSeen: number | null }).replicasSeen === 2, {
    what: 'the status page to count both replicas',
  });

  // The lease would keep the indexer to one process anyway; the first worker is the only one asking.
  const holder = await waitFor(() => client.get('kcp-edge:{routing}:indexer-lease').then((v) => v ?? undefined), { what: 'the indexer lease to be taken' });
  assert.equal(Number(holder.split('/')[1]), workerPids[0]);
  assert.deepEqual(
    allLogged(serve.lines, 'indexer lease acquired: indexing').map((e) => e['pid']),
    [workerPids[0]],
  );
  const seeded = await waitFor(() => client.hget('kcp-edge:{routing}:shards', 'seeded').then((v) => v ?? undefined), { what: 'the seed shard to be registered' });
  assert.deepEqual(JSON.parse(seeded), { url: shard.url, state: 'active', labels: { from: 'config' } });
  assert.ok(await client.hget('kcp-edge:{routing}:generation', 'id'), 'with a generation marker');
});

test('a worker that cannot start (its port is taken) stops the supervisor with exit 1', async (t) => {
  const pki = await testPki();
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const dir = await serveDir(t, pki, 'https://127.0.0.1:1', ['workers: 2']);
  const config = join(dir, 'gateway.yaml');
  await writeFile(config, (await readFile(config, 'utf8')).replace('port: 0', `port: ${port}`));
  const serve = startServe(t, dir);
  const [code] = await serve.exited;
  assert.equal(code, 1);
  assert.ok(logged(serve.lines, 'worker exited before serving; stopping'));
  assert.equal(logged(serve.lines, 'kcp-edge gateway serving'), undefined);
});

test('serve refuses a --workers value that is not a count or "auto"', async () => {
  const run = promisify(execFile);
  for (const value of ['0', 'two', '257']) {
    await assert.rejects(
      run(process.execPath, ['src/cli.ts', 'serve', '--config', join('config', 'gateway.yaml'), '--workers', value]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.equal(err.stderr, 'kcp-edge serve: --workers: must be a whole number from 1 to 256, or "auto"\n');
        return true;
      },
    );
  }
});
