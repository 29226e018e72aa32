// Tracing through a real gateway to a local OTLP/HTTP collector stand-in: the client's W3C traceparent
// is the parent of the gateway's spans (one per stage, and the upstream call), the shard is sent the
// upstream span as its parent, and the spans reach the collector. Unsampled requests cost no span and
// keep the client's traceparent as it was.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { createRequestTracing } from '../../src/tracing/request-tracing.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** Receives OTLP/HTTP JSON exports, as an OpenTelemetry collector's otlp receiver would. */
async function startCollector(t: TestContext): Promise<{ url: string; spans: OtlpSpan[]; contentTypes: string[] }> {
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, contentTypes };
}

const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';
const path = '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps';

test('a sampled request: spans per stage and for the upstream call reach the collector; the shard gets the upstream span as parent', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('shard-a', shard.url).addRoute('root:org-acme:proj', 'shard-a', 'c-proj');
  const collector = await startCollector(t);
  const tracing = createRequestTracing({ endpoint: collector.url, samplingRatio: 0, serviceName: 'kcp-edge-test', exportDelayMs: 50 });
  t.after(() => tracing.shutdown());
  const gw = await startTestGateway(t, pki, routing, { traceStages: tracing.traceStages, observers: [tracing.observer] });

  // Ratio 0, but the client's sampled parent decides (parent-based sampling).
  const reply = await get(gw, pki, path, { headers: { traceparent: `00-${clientTraceId}-${clientSpanId}-01`, 'audit-id': 'traced-1' } });
  assert.equal(reply.status, 200);
  const sent = String(shard.seen.at(-1)!.headers['traceparent']);
  const [, traceId, parentOfShard, flags] = sent.split('-');
  assert.equal(traceId, clientTraceId, 'the trace goes on at the shard');
  assert.notEqual(parentOfShard, clientSpanId, "the shard's parent is the gateway's upstream span");
  assert.equal(flags, '01');

  const spans = await waitFor(
    () => {
      const ours = collector.spans.filter((s) => s.traceId === clientTraceId);
      return ours.some((s) => s.name === 'GET request') && ours;
    },
    { what: 'the spans at the collector' },
  );
  assert.ok(collector.contentTypes.every((c) => c.startsWith('application/json')));
  const byName = new Map(spans.map((s) => [s.name, s]));
  const request = byName.get('GET request')!;
  assert.equal(request.parentSpanId, clientSpanId, "the client's span is the parent");
  for (const stage of ['gatewayEndpoints', 'parseWorkspacePath', 'resolve', 'authenticateRequest', 'admit', 'upstream']) {
    assert.equal(byName.get(stage)?.parentSpanId, request.spanId, `${stage} is a child of the request span`);
  }
  const upstream = byName.get('upstream')!;
  assert.equal(upstream.spanId, parentOfShard);
  const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;
  assert.equal(attr(upstream, 'kcp_edge.shard')?.stringValue, 'shard-a');
  assert.equal(Number(attr(request, 'http.response.status_code')?.intValue), 200);
  assert.equal(attr(request, 'kcp_edge.workspace')?.stringValue, 'root:org-acme:proj');
  assert.equal(attr(request, 'kcp_edge.audit_id')?.stringValue, 'traced-1');
});

test('an unsampled request records no span and passes the client traceparent on unchanged', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('shard-a', shard.url).addRoute('root:org-acme:proj', 'shard-a', 'c-proj');
  const collector = await startCollector(t);
  const tracing = createRequestTracing({ endpoint: collector.url, samplingRatio: 0, serviceName: 'kcp-edge-test', exportDelayMs: 20 });
  const gw = await startTestGateway(t, pki, routing, { traceStages: tracing.traceStages, observers: [tracing.observer] });
  const unsampled = `00-${clientTraceId}-${clientSpanId}-00`;
  assert.equal((await get(gw, pki, path, { headers: { traceparent: unsampled } })).status, 200);
  assert.equal(shard.seen.at(-1)!.headers['traceparent'], unsampled);
  assert.equal((await get(gw, pki, path)).status, 200);
  assert.equal(shard.seen.at(-1)!.headers['traceparent'], undefined, 'ratio 0 and no parent: nothing traced, nothing invented');
  await tracing.shutdown();
  assert.deepEqual(collector.spans, []);
});
