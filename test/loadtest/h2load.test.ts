// h2load's summary and per-request log, read into the same figures as wrk's; and one real run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { h2loadResult, parseH2loadLog, parseH2loadSummary, runH2load } from '../../loadtest/lib/h2load.ts';
import { LIST_PATH } from '../../loadtest/upstream/body.ts';
import { benchUpstreamForTest } from './fixture.ts';

const summary = `starting benchmark...
spawning thread #0: 32 total client(s). Timing-based test with 0s of warm-up time and 10s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2

finished in 10.00s, 4321.50 req/s, 6.70MB/s
requests: 43215 total, 43279 started, 43215 done, 43200 succeeded, 15 failed, 4 errored, 1 timeout
status codes: 43200 2xx, 0 3xx, 10 4xx, 1 5xx
traffic: 67.00MB (70254800) total, 441.00KB (451584) headers (space savings 89.99%), 65.90MB (69100000) data
                     min         max         mean         sd        +/- sd
time for request:      185us    146.73ms      4.09ms      7.20ms    91.89%
`;

test('the h2load summary gives throughput, the negotiated protocol and errors in wrk terms', () => {
  assert.deepEqual(parseH2loadSummary(summary), { protocol: 'h2', requestsPerSecond: 4321.5, done: 43215, errored: 4 });
  assert.equal(parseH2loadSummary(summary.replace('Application protocol: h2\n', '')).protocol, 'none');
  assert.throws(() => parseH2loadSummary('connect: Connection refused'), /unexpected h2load output/);
});

test('latency percentiles and statuses come from the per-request log; failed streams have no latency', () => {
  // 100 answered requests taking 1..100 ms, in no particular order, three of them 4xx/5xx; two failed streams.
  const status = (i: number) => (i === 3 ? 404 : i === 4 ? 503 : i === 5 ? 429 : 200);
  const lines = Array.from({ length: 100 }, (_, i) => `17958542509${String(i).padStart(5, '0')}\t${status(i)}\t${(((i * 37) % 100) + 1) * 1000}`);
  lines.splice(50, 0, '1795854250999999\t-1\t900000000', '1795854250999998\t-1\t0');
  const log = parseH2loadLog(`${lines.join('\n')}\n`);
  assert.equal(log.latenciesMs.length, 100);
  assert.equal(log.non2xx, 3);
  const result = h2loadResult(parseH2loadSummary(summary), log);
  assert.equal(result.p50Ms, 50);
  assert.equal(result.p90Ms, 90);
  assert.equal(result.p99Ms, 99);
  assert.equal(result.requests, 43215);
  assert.equal(result.socketErrors, 4);
  assert.equal(result.non2xx, 3);
  assert.throws(() => parseH2loadLog('garbage\n'), /unexpected h2load log line/);
});

test('a real h2load run against the upstream negotiates h2 and reads every figure', async (t) => {
  const installed = await promisify(execFile)('sh', ['-c', 'command -v h2load']).then(
    () => true,
    () => false,
  );
  if (!installed) {
    t.skip('h2load is not installed (Debian: nghttp2-client; npm run bench installs it)');
    return;
  }
  const { upstream } = await benchUpstreamForTest(t);
  const before = await upstream.stats();
  const result = await runH2load({ port: upstream.port, path: LIST_PATH, headers: {}, threads: 1, connections: 4, seconds: 1 });
  const after = await upstream.stats();
  assert.ok(result.requests > 0);
  assert.ok(result.requestsPerSecond > 0);
  assert.ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms, `p50 ${result.p50Ms} p99 ${result.p99Ms}`);
  assert.equal(result.socketErrors, 0);
  assert.equal(result.non2xx, 0);
  assert.equal(after.connections - before.connections, 4);
  assert.ok(after.h2Requests - before.h2Requests >= result.requests);

  const missing = await runH2load({ port: upstream.port, path: '/nowhere', headers: {}, threads: 1, connections: 2, seconds: 1 });
  assert.equal(missing.non2xx, missing.requests);
});
