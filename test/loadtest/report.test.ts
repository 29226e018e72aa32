// The comparison's options and report: which clients run, and how the HTTP/2 table relates to HTTP/1.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { h2loadClient, parseClients, wrkClient } from '../../loadtest/lib/load-clients.ts';
import { comparisonReport } from '../../loadtest/lib/report.ts';
import type { RoundResult, TargetSummary } from '../../loadtest/scenarios/proxy-compare.ts';

test('--clients picks the load generators, both by default', () => {
  assert.deepEqual(parseClients(undefined), [wrkClient, h2loadClient]);
  assert.deepEqual(parseClients('h2'), [h2loadClient]);
  assert.deepEqual(parseClients('h2,h1,h2'), [h2loadClient, wrkClient]);
  assert.throws(() => parseClients('h3'), /--clients takes h1, h2 or h1,h2/);
  assert.throws(() => parseClients(''), /--clients/);
});

function summary(name: string, requestsPerSecond: number, ratioToDirect: number): TargetSummary {
  const round: RoundResult = {
    requests: requestsPerSecond * 10,
    requestsPerSecond,
    p50Ms: 1,
    p90Ms: 2,
    p99Ms: 3,
    socketErrors: 0,
    non2xx: 1,
    newUpstreamConnections: 0,
    cpuMicrosPerRequest: 100,
  };
  return {
    name,
    description: `${name} 1.0`,
    rounds: [round],
    requestsPerSecond,
    ratioToDirect,
    p50Ms: 1,
    p99Ms: 3,
    cpuMicrosPerRequest: 100,
    newUpstreamConnections: 0,
    errors: 1,
  };
}

test('the report has one section and chart per client hop; the HTTP/2 table compares each target with its own HTTP/1.1', () => {
  const comparisons = [
    { client: wrkClient, summaries: [summary('direct', 6000, 1), summary('nginx', 5000, 5 / 6)] },
    { client: h2loadClient, summaries: [summary('direct', 3000, 1), summary('nginx', 7500, 2.5)] },
  ];
  const { markdown, charts } = comparisonReport(comparisons, { name: '2026-12-01', chartTitle: (protocol) => `GET ${protocol}`, threads: 2, connections: 64 });
  const text = markdown.join('\n');
  assert.deepEqual([...charts.keys()], ['2026-12-01.svg', '2026-12-01-h2.svg']);
  assert.match(charts.get('2026-12-01-h2.svg')!, />GET HTTP\/2</);
  assert.match(text, /## HTTP\/1\.1 on the client hop \(wrk\)/);
  assert.match(text, /## HTTP\/2 on the client hop \(what kubectl speaks\)/);
  assert.match(text, /h2load -t2 -c64 -m1/);
  const h2Section = text.slice(text.indexOf('## HTTP/2'));
  assert.match(h2Section, /\| vs own HTTP\/1\.1 \|/);
  assert.match(h2Section, /\| nginx — nginx 1\.0 \| 7 500 \| 2\.50 \|.*\| 1\.50 \|/);
  assert.match(h2Section, /\| direct — direct 1\.0 \| 3 000 \| 1\.00 \|.*\| 0\.50 \|/);
  assert.doesNotMatch(text.slice(0, text.indexOf('## HTTP/2')), /vs own/);
  assert.match(text, /\| h2 \| nginx \| 1 \| 7500 \|/);
});
