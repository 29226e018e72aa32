import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrk } from '../../loadtest/lib/wrk.ts';
import { median, percentile } from '../../loadtest/lib/stats.ts';

const sample = `Running 10s test @ https://127.0.0.1:40001/clusters/x/api/v1/namespaces/default/configmaps
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.21ms    1.23ms  30.00ms   80.00%
    Req/Sec     6.20k   300.00     7.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    5.80ms
     90%    7.10ms
     99%    1.20s
  123456 requests in 10.00s, 200.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  12345.67
Transfer/sec:     20.00MB
`;

test('wrk output is read with its units', () => {
  assert.deepEqual(parseWrk(sample), {
    requests: 123456,
    requestsPerSecond: 12345.67,
    p50Ms: 0.85,
    p90Ms: 7.1,
    p99Ms: 1200,
    socketErrors: 5,
    non2xx: 7,
  });
});

test('wrk output without errors counts none, and garbage is refused', () => {
  const clean = sample.replace(/ {2}Socket errors.*\n/, '').replace(/ {2}Non-2xx.*\n/, '');
  const result = parseWrk(clean);
  assert.equal(result.socketErrors, 0);
  assert.equal(result.non2xx, 0);
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /unexpected wrk output/);
});

test('median and percentile', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 100), 100);
});
