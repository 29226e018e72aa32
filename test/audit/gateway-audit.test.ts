// The audit log behind a real gateway: a create and a watch become audit.k8s.io/v1 Events in the file
// and at a webhook (batched as an EventList), carrying the workspace, org, shard, the user before and
// after mapping and the Audit-ID the client saw; a webhook that is down costs events (counted), never a
// request; the file rotates by size.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { AuditObserver } from '../../src/audit/audit-observer.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { FileAuditBackend } from '../../src/audit/file-backend.ts';
import { registerAuditMetrics } from '../../src/audit/metrics.ts';
import { auditPolicyKind, type AuditPolicy } from '../../src/audit/policy.ts';
import { WebhookAuditBackend } from '../../src/audit/webhook-backend.ts';
import type { Authenticator } from '../../src/auth/identity.ts';
import { parseConfig } from '../../src/config/index.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function shippedPolicy(): Promise<AuditPolicy> {
  const file = join(import.meta.dirname, '../../config/audit-policy.yaml');
  return (await parseConfig(auditPolicyKind, await readFile(file, 'utf8'), file)) as unknown as AuditPolicy;
}

/** An HTTP server standing in for an audit webhook: records each EventList it is sent. */
async function startWebhook(t: TestContext): Promise<{ url: string; batches: { kind: string; apiVersion: string; items: AuditEvent[] }[]; server: Server }> {
  const batches: { kind: string; apiVersion: string; items: AuditEvent[] }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`, batches, server };
}

async function fileEvents(path: string): Promise<AuditEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

test('a create and a watch are audit Events with workspace, org, shard, both users and the Audit-ID, in the file and at the webhook', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki, (req, res) => {
    if (req.url?.includes('watch=1')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}}\n');
      return; // open until the client goes
    }
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"kind":"ConfigMap"}');
  });
  const routing = new StaticRoutingTable().addShard('shard-a', shard.url).addRoute('root:org-acme:proj', 'shard-a', 'c-proj');
  const dir = await tempDir(t);
  const registry = new Registry();
  const metrics = registerAuditMetrics(registry);
  const webhook = await startWebhook(t);
  const file = await FileAuditBackend.open({ path: join(dir, 'audit.log'), maxSizeBytes: 10 * 1024 * 1024, maxBackups: 1, metrics });
  const hook = new WebhookAuditBackend({ url: webhook.url, bufferSize: 100, batchMaxSize: 10, batchMaxWaitMs: 50, metrics });
  t.after(() => Promise.all([file.close(), hook.close()]));
  // An authenticator that maps, as the org realms do: the token named "alice", the shard is told "org-acme:alice".
  const mapped: Authenticator = {
    authenticate: async (c) =>
      c.token === 'mapped-token' ? { user: 'org-acme:alice', groups: ['org-acme:devs'], extra: {}, source: { user: 'alice', groups: ['devs'] } } : undefined,
  };
  const policy = await shippedPolicy();
  const gw = await startTestGateway(t, pki, routing, { authenticators: [mapped], observers: [new AuditObserver(() => policy, [file, hook])] });

  const created = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps', {
    token: 'mapped-token',
    method: 'POST',
    headers: { 'audit-id': 'audit-create-1', 'content-type': 'application/json', 'user-agent': 'kubectl/v1.33' },
    body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hello"},"data":{"password":"s3cret"}}',
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers['audit-id'] ?? 'audit-create-1', 'audit-create-1');
  assert.equal((await get(gw, pki, '/livez', { token: null })).status, 200);

  const events = await waitFor(
    async () => {
      const all = await fileEvents(join(dir, 'audit.log'));
      return all.length >= 1 && all;
    },
    { what: 'the create in the audit file' },
  );
  assert.equal(events.length, 1, 'one event: RequestReceived omitted by the shipped policy, /livez not audited');
  const create = events[0]!;
  assert.deepEqual(
    {
      kind: create.kind,
      apiVersion: create.apiVersion,
      level: create.level,
      stage: create.stage,
      auditID: create.auditID,
      verb: create.verb,
      requestURI: create.requestURI,
      user: create.user,
      objectRef: create.objectRef,
      responseStatus: create.responseStatus,
      userAgent: create.userAgent,
      sourceIPs: create.sourceIPs,
    },
    {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      stage: 'ResponseComplete',
      auditID: 'audit-create-1',
      verb: 'create',
      requestURI: '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps',
      user: { username: 'org-acme:alice', groups: ['org-acme:devs'] },
      objectRef: { resource: 'configmaps', namespace: 'default', apiVersion: 'v1' },
      responseStatus: { metadata: {}, status: 'Success', code: 201 },
      userAgent: 'kubectl/v1.33',
      sourceIPs: ['127.0.0.1'],
    },
  );
  assert.deepEqual(create.annotations, {
    'kcp-edge.io/workspace': 'root:org-acme:proj',
    'kcp-edge.io/org': 'org-acme',
    'kcp-edge.io/shard': 'shard-a',
    'kcp-edge.io/logical-cluster': 'c-proj',
    'kcp-edge.io/authenticated-user': 'alice',
    'kcp-edge.io/authenticated-groups': 'devs',
  });
  assert.ok(!JSON.stringify(create).includes('s3cret'), 'a ConfigMap is audited at Metadata: its data never reaches the log');
  assert.ok(Date.parse(create.requestReceivedTimestamp) <= Date.parse(create.stageTimestamp));

  // A watch: ResponseStarted while it is open, ResponseComplete once it ends.
  const controller = new AbortController();
  const watching = fetchWatch(gw.port, pki.ca.certPem, controller.signal);
  const started = await waitFor(async () => (await fileEvents(join(dir, 'audit.log'))).find((e) => e.stage === 'ResponseStarted'), { what: 'ResponseStarted of the watch' });
  assert.equal(started.verb, 'watch');
  assert.equal(started.responseStatus?.code, 200);
  assert.ok(!(await fileEvents(join(dir, 'audit.log'))).some((e) => e.verb === 'watch' && e.stage === 'ResponseComplete'), 'not complete while it streams');
  controller.abort();
  await watching.catch(() => undefined);
  await waitFor(async () => (await fileEvents(join(dir, 'audit.log'))).some((e) => e.verb === 'watch' && e.stage === 'ResponseComplete'), {
    what: 'ResponseComplete of the watch',
  });

  // The webhook got the same events, as EventLists.
  const delivered = await waitFor(
    () => {
      const items = webhook.batches.flatMap((b) => b.items);
      return items.length >= 3 && items;
    },
    { what: 'the webhook batches' },
  );
  assert.ok(webhook.batches.every((b) => b.kind === 'EventList' && b.apiVersion === 'audit.k8s.io/v1'));
  assert.deepEqual(
    delivered.map((e) => `${e.verb} ${e.stage}`),
    ['create ResponseComplete', 'watch ResponseStarted', 'watch ResponseComplete'],
  );
  // Counted once the webhook's answer is back.
  await waitFor(async () => /kcp_edge_audit_events_total\{backend="webhook"\} 3/.test(await registry.metrics()), { what: 'the delivered events counted' });
});

function fetchWatch(port: number, ca: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    void import('node:https').then(({ request }) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/clusters/org-acme:proj/api/v1/namespaces/default/configmaps?watch=1',
          ca,
          agent: false,
          signal,
          headers: { authorization: 'Bearer mapped-token' },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  });
}

test('a webhook that is down drops events from a bounded buffer and counts them; requests never wait', async (t) => {
  const registry = new Registry();
  const metrics = registerAuditMetrics(registry);
  // A port nothing listens on.
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  const hook = new WebhookAuditBackend({ url: `http://127.0.0.1:${port}/`, bufferSize: 5, batchMaxSize: 5, batchMaxWaitMs: 10_000, metrics });
  t.after(() => hook.close());
  const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'x' } as AuditEvent;
  const startedAt = performance.now();
  for (let i = 0; i < 1000; i++) hook.process(event);
  assert.ok(performance.now() - startedAt < 200, 'processing never waits for the webhook');
  // 5 fill the buffer and go out as one batch (which fails: dropped too); most of the rest find it full.
  await waitFor(async () => /kcp_edge_audit_events_dropped_total\{backend="webhook"\} 1000/.test(await registry.metrics()), { what: 'every event counted as dropped' });
});

test('the audit file rotates by size, keeping maxBackups old files', async (t) => {
  const dir = await tempDir(t);
  const registry = new Registry();
  const path = join(dir, 'audit.log');
  const file = await FileAuditBackend.open({ path, maxSizeBytes: 2_000, maxBackups: 2, metrics: registerAuditMetrics(registry) });
  const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'y'.repeat(200) } as AuditEvent;
  for (let i = 0; i < 40; i++) {
    file.process(event);
    if (i % 10 === 9) await file.settled(); // ~2.3 kB: each tenth event starts a rotation
  }
  await file.close();
  const names = (await readdir(dir)).sort();
  assert.deepEqual(names, ['audit.log', 'audit.log.1', 'audit.log.2']);
  for (const name of names) {
    const lines = (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l !== '');
    for (const line of lines) assert.equal((JSON.parse(line) as AuditEvent).auditID, 'y'.repeat(200), `${name}: whole lines only`);
  }
  assert.match(await registry.metrics(), /kcp_edge_audit_events_total\{backend="file"\} 40/);
});

test('an unexpected exception in the gateway is audited at the Panic stage, with the 500 the client got', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('shard-a', shard.url).addRoute('root:org-acme:proj', 'shard-a', 'c-proj');
  const events: AuditEvent[] = [];
  const policy = await shippedPolicy();
  // A routing table that fails in a way no store should (not a GatewayError): a bug, not a refusal.
  routing.resolve = async () => {
    throw new TypeError('a bug, not a refusal');
  };
  const gw = await startTestGateway(t, pki, routing, { observers: [new AuditObserver(() => policy, [{ process: (e) => void events.push(e), close: async () => {} }])] });
  const reply = await get(gw, pki, '/clusters/org-acme:proj/api/v1/namespaces/default/pods', { headers: { 'audit-id': 'panic-1' } });
  assert.equal(reply.status, 500);
  const event = await waitFor(() => events.find((e) => e.auditID === 'panic-1'), { what: 'the Panic event' });
  assert.equal(event.stage, 'Panic');
  assert.equal(event.responseStatus?.code, 500);
  assert.equal(event.user.username, 'system:anonymous', 'it failed before authentication');
  assert.equal(event.annotations?.['kcp-edge.io/error'], 'INTERNAL');
});
