import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from './fixtures.ts';

test('livez, readyz, metrics and one access-log line per request; no /metrics on the public port', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  let ready = true;
  routing.ready = () => ready;
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const gw = await startTestGateway(t, pki, routing, { logger });

  assert.equal((await get(gw, pki, '/livez', { token: null })).status, 200);
  assert.equal((await get(gw, pki, '/readyz', { token: null })).status, 200);
  ready = false;
  assert.equal((await get(gw, pki, '/readyz', { token: null })).status, 503);

  const ok = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?limit=10', { headers: { 'audit-id': 'audit-1' } });
  assert.equal(ok.status, 200);
  assert.equal((await get(gw, pki, '/clusters/org-acme:gone/api/v1/namespaces/default/configmaps')).status, 403);

  // Metrics are the admin listener's (test/admin/): the public port has no anonymous scrape.
  const publicScrape = await get(gw, pki, '/metrics', { token: null });
  assert.equal(publicScrape.status, 404);
  assert.doesNotMatch(publicScrape.body, /kcp_edge_/);
  const metrics = await gw.metrics.metrics();
  assert.match(metrics, /kcp_edge_requests_total\{shard="a",verb="list",code="200"\} 1/);
  assert.match(metrics, /kcp_edge_requests_total\{shard="",verb="list",code="403"\} 1/);
  assert.match(metrics, /kcp_edge_request_duration_seconds_count\{shard="a",verb="list"\} 1/);

  await waitFor(() => lines.some((l) => l.auditID === 'audit-1'), { what: 'the access-log line' });
  const line = lines.find((l) => l.auditID === 'audit-1')!;
  assert.equal(line.msg, 'request');
  assert.equal(line.code, 200);
  assert.equal(line.verb, 'list');
  assert.equal(line.shard, 'a');
  assert.equal(line.workspace, 'root:org-acme:proj');
  assert.equal(line.user, 'alice');
  assert.equal(line.path, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps');
  assert.equal(typeof line.ms, 'number');
  const denied = lines.find((l) => l.code === 403)!;
  assert.equal(denied.error, 'FORBIDDEN');
  // One line per request: 3 health probes, 2 workspace requests, 1 refused scrape (logged after it is answered).
  await waitFor(() => lines.filter((l) => l.msg === 'request').length === 6, { what: 'six access-log lines' });
});
