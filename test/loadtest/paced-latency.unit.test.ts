// The constant-rate latency run: how a wanted rate becomes h2load's per-connection pacing, and how
// "added over direct" is read from the rounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { floorRatioLine, pacedReport } from '../../loadtest/lib/report.ts';
import { addedLatency, pacing, targetsInRound } from '../../loadtest/scenarios/paced-latency.ts';
import type { RoundResult, TargetSummary } from '../../loadtest/scenarios/proxy-compare.ts';
import { median } from '../../loadtest/lib/stats.ts';
import type { WrkResult } from '../../loadtest/lib/wrk.ts';

test('the offered rate is a whole rate per connection, at least one request a second each', () => {
  assert.deepEqual(pacing(2200, 16), { ratePerConnection: 138, offeredRate: 2208 });
  assert.deepEqual(pacing(3, 16), { ratePerConnection: 1, offeredRate: 16 });
});

const round = (p50Ms: number, p99Ms: number): WrkResult => ({ requests: 1000, requestsPerSecond: 100, p50Ms, p90Ms: p50Ms, p99Ms, socketErrors: 0, non2xx: 0 });

test('the first round runs every target; later ones only the gated targets, in a rotated order', () => {
  const targets = ['direct', 'nginx', 'node-floor', 'kcp-edge'].map((name) => ({ target: { name } }));
  const names = (round: number) => targetsInRound(targets, round, ['direct', 'node-floor', 'kcp-edge']).map((t) => t.target.name);
  assert.deepEqual(names(0), ['direct', 'nginx', 'node-floor', 'kcp-edge']);
  assert.deepEqual(names(1), ['node-floor', 'kcp-edge', 'direct']);
  assert.deepEqual(names(2), ['kcp-edge', 'direct', 'node-floor']);
});

test('added latency is each round against direct of the same round, then the median', () => {
  const direct = [round(1, 3), round(2, 4), round(1.5, 10)];
  const target = [round(1.4, 4), round(2.2, 9), round(2.5, 11)];
  const added = addedLatency(target, direct);
  assert.ok(Math.abs(added.addedP50Ms - 0.4) < 1e-9, String(added.addedP50Ms));
  assert.equal(added.addedP99Ms, 1);
  assert.ok(Number.isNaN(addedLatency(target, undefined).addedP50Ms));
});

test('the report shows both percentiles, what was added, and how the rate was chosen', () => {
  const { title, markdown } = pacedReport(
    {
      offeredRate: 2208,
      ratePerConnection: 138,
      connections: 16,
      basis: { target: 'kcp-edge', requestsPerSecond: 4400 },
      summaries: [
        { name: 'direct', rounds: 3, requestsPerSecond: 2207, p50Ms: 1.1, p99Ms: 3, addedP50Ms: 0, addedP99Ms: 0, errors: 0 },
        { name: 'kcp-edge', rounds: 3, requestsPerSecond: 2205, p50Ms: 1.6, p99Ms: 4.5, addedP50Ms: 0.5, addedP99Ms: 1.5, errors: 0 },
      ],
    },
    { threads: 2, seconds: 6 },
  );
  assert.match(title, /half of kcp-edge's peak/);
  assert.match(markdown, /--rps=138/);
  assert.match(markdown, /^\| direct \| 3 \| 2 207 \| 1\.10 \| 3\.00 \| – \| – \| 0 \|$/m);
  assert.match(markdown, /^\| kcp-edge \| 3 \| 2 205 \| 1\.60 \| 4\.50 \| 0\.50 \| 1\.50 \| 0 \|$/m);
});

test("kcp-edge's CPU per request is put against node-floor's: ratio of the medians, and the median of each round's ratio", () => {
  const s = (name: string, ...cpu: number[]) => ({ name, cpuMicrosPerRequest: median(cpu), rounds: cpu.map((c) => ({ cpuMicrosPerRequest: c }) as RoundResult) }) as TargetSummary;
  // Round 2 ran on a busier box for both: paired, it no longer decides the ratio.
  assert.equal(
    floorRatioLine([s('direct', Number.NaN, Number.NaN, Number.NaN), s('node-floor', 100, 200, 110), s('kcp-edge', 112, 220, 250), s('kcp-edge-2w', 130, 260, 143)]),
    "CPU per request against node-floor's (110 µs), medians of the same rounds: kcp-edge 2.00× (220 µs), kcp-edge-2w 1.30× (143 µs). " +
      "Round by round (each round's kcp-edge ÷ that round's node-floor), median: kcp-edge 1.12× (1.12, 1.10, 2.27), kcp-edge-2w 1.30× (1.30, 1.30, 1.30).",
  );
  assert.equal(floorRatioLine([s('node-floor', 100)]), undefined);
});
