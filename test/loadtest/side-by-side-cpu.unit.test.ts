// kcp-edge against node-floor loaded at the same time: each round's own ratio, then the median.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sideBySideRatios, sideBySideReport, type SideBySideRound } from '../../loadtest/scenarios/side-by-side-cpu.ts';

const round = (floorMicros: number, edgeMicros: number): SideBySideRound => ({ floorMicros, edgeMicros, floorRequests: 1000, edgeRequests: 1000 });

test('the ratio is taken within each round, so a round on a slower box moves it little', () => {
  // Round 2 ran while the box was twice as slow for both.
  const { ratios, median, pooled } = sideBySideRatios([round(100, 110), round(200, 230), round(100, 112)]);
  assert.deepEqual(
    ratios.map((r) => r.toFixed(2)),
    ['1.10', '1.15', '1.12'],
  );
  assert.ok(Math.abs(median - 1.12) < 1e-9, String(median));
  assert.ok(Math.abs(pooled - 452 / 400) < 1e-9, `all rounds together weigh the slow round's CPU in: ${pooled}`);
  assert.deepEqual(sideBySideRatios([round(0, 0)]).ratios, [], 'a round with no CPU read says nothing');
});

test('the report gives every round, the median and all rounds together per client protocol', () => {
  const { markdown } = sideBySideReport([
    { hop: 'h1', offeredRate: 2064, seconds: 5, rounds: [round(100, 110), round(200, 230), round(100, 112)] },
    { hop: 'h2', offeredRate: 1520, seconds: 5, rounds: [round(120, 150)] },
  ]);
  assert.match(markdown, /5 s per round/);
  assert.match(markdown, /^\| HTTP\/1\.1 \| 2064 \| 100 \| 112 \| 1\.10, 1\.15, 1\.12 \| \*\*1\.12×\*\* \| 1\.13× \|$/m);
  assert.match(markdown, /^\| HTTP\/2 \| 1520 \| 120 \| 150 \| 1\.25 \| \*\*1\.25×\*\* \| 1\.25× \|$/m);
});
