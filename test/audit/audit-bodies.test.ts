// Bodies in the audit log, behind a real gateway in front of the stand-in shards: at Request an event
// carries the object the client sent, at RequestResponse the shard's answer too; the shipped policy keeps
// Secrets at Metadata; a body over the bound is left out (and the event says so) while the shard still
// gets all of it; a watch records no body; HTTP/2 and chunked bodies are tapped the same way; kubectl's
// protobuf bodies are left out, its JSON ones recorded.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, constants } from 'node:http2';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditObserver } from '../../src/audit/audit-observer.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { auditPolicyKind, type AuditPolicy } from '../../src/audit/policy.ts';
import { parseConfig } from '../../src/config/index.ts';
import { kubectlIn, kubectlMissing, startKubectlStack, type KubectlStack } from '../gateway/kubectl-stack.ts';
import { waitFor } from '../helpers/wait.ts';

const ws = '/clusters/org-acme:proj-frontend';

async function policyOf(text: string, file = 'policy.yaml'): Promise<AuditPolicy> {
  return (await parseConfig(auditPolicyKind, text, file)) as unknown as AuditPolicy;
}

async function shippedPolicy(): Promise<AuditPolicy> {
  const file = join(import.meta.dirname, '../../config/audit-policy.yaml');
  return policyOf(await readFile(file, 'utf8'), file);
}

interface Sent {
  status: number;
  body: string;
}

/** One HTTP/1.1 request as alice; `chunked` sends the body without a length. */
function send(stack: KubectlStack, ca: string, method: string, path: string, auditId: string, body?: string, chunked = false): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: 'Bearer alice-token', 'audit-id': auditId, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (chunked) headers['transfer-encoding'] = 'chunked';
    const req = request({ host: '127.0.0.1', port: stack.gateway.port, path, method, ca, agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      // Two writes: the body goes out as chunks of unknown total length.
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    } else req.end(body);
  });
}

/** The same over HTTP/2 (the gateway negotiates h2 over ALPN). */
async function sendH2(stack: KubectlStack, ca: string, path: string, auditId: string, body: string): Promise<Sent> {
  const session = connect(stack.gateway.url, { ca });
  try {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      authorization: 'Bearer alice-token',
      'audit-id': auditId,
      'content-type': 'application/json',
    });
    stream.end(body);
    const [headers] = await Promise.all([new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve))]);
    let text = '';
    for await (const chunk of stream) text += (chunk as Buffer).toString();
    return { status: Number(headers[constants.HTTP2_HEADER_STATUS]), body: text };
  } finally {
    session.close();
  }
}

function configMap(name: string, data: Record<string, string>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
}

test('at Request the sent object is recorded, at RequestResponse the answer too; Secrets stay Metadata; oversize bodies and watches record none', async (t) => {
  const events: AuditEvent[] = [];
  let policy = await shippedPolicy();
  const observer = new AuditObserver(() => policy, [{ process: (e) => void events.push(e), close: async () => {} }], { maxObjectBytes: 4096 });
  const stack = await startKubectlStack(t, { observers: [observer] });
  const ca = await readFile(join(stack.dir, 'ca.crt'), 'utf8');
  const completed = (auditId: string) => waitFor(() => events.find((e) => e.auditID === auditId && e.stage === 'ResponseComplete'), { what: `the event of ${auditId}` });

  // The shipped policy: a Secret's create at Metadata, nothing of it recorded; a ServiceAccount's at Request.
  const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 's3cret' } });
  assert.equal((await send(stack, ca, 'POST', `${ws}/api/v1/namespaces/default/secrets`, 'secret-1', secret)).status, 201);
  const secretEvent = await completed('secret-1');
  assert.equal(secretEvent.level, 'Metadata');
  assert.ok(!JSON.stringify(secretEvent).includes('s3cret'), 'nothing of the Secret in its event');
  assert.equal(secretEvent.requestObject, undefined);

  const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', labels: { team: 'web' } } };
  assert.equal((await send(stack, ca, 'POST', `${ws}/api/v1/namespaces/default/serviceaccounts`, 'sa-1', JSON.stringify(account))).status, 201);
  const accountEvent = await completed('sa-1');
  assert.equal(accountEvent.level, 'Request');
  assert.deepEqual(accountEvent.requestObject, account, 'the object as the client sent it');
  assert.equal(accountEvent.responseObject, undefined, 'Request records no answer');
  assert.deepEqual(accountEvent.objectRef, { resource: 'serviceaccounts', namespace: 'default', apiVersion: 'v1', name: 'builder' }, 'named from the body, as kube does');
  assert.equal(accountEvent.annotations?.['kcp-edge.io/request-object-omitted'], undefined);
  // Reads stay at Metadata in the shipped policy.
  assert.equal((await send(stack, ca, 'GET', `${ws}/api/v1/namespaces/default/serviceaccounts/builder`, 'sa-get')).status, 200);
  assert.equal((await completed('sa-get')).level, 'Metadata');

  // RequestResponse: the shard's answer as well, with its uid and resourceVersion; managed fields dropped when asked.
  policy = await policyOf('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: true\nrules: [{ level: RequestResponse }]\n');
  const created = await send(stack, ca, 'POST', `${ws}/api/v1/namespaces/default/configmaps`, 'cm-1', configMap('small', { greeting: 'hello' }));
  assert.equal(created.status, 201);
  const cmEvent = await completed('cm-1');
  assert.equal(cmEvent.level, 'RequestResponse');
  assert.deepEqual(cmEvent.requestObject, JSON.parse(configMap('small', { greeting: 'hello' })));
  const answer = JSON.parse(created.body) as { metadata: Record<string, unknown> };
  assert.ok(answer.metadata['uid'] !== undefined);
  delete answer.metadata['managedFields'];
  assert.deepEqual(cmEvent.responseObject, answer, 'the answer the client got (less managed fields)');
  // A read at RequestResponse records the answer, and no request object (there is no body).
  assert.equal((await send(stack, ca, 'GET', `${ws}/api/v1/namespaces/default/configmaps/small`, 'cm-get')).status, 200);
  const getEvent = await completed('cm-get');
  assert.equal(getEvent.requestObject, undefined);
  assert.equal((getEvent.responseObject as { data: Record<string, string> }).data['greeting'], 'hello');

  // HTTP/2 and a chunked HTTP/1.1 body are tapped too.
  assert.equal((await sendH2(stack, ca, `${ws}/api/v1/namespaces/default/configmaps`, 'cm-h2', configMap('over-h2', { via: 'h2' }))).status, 201);
  assert.deepEqual((await completed('cm-h2')).requestObject, JSON.parse(configMap('over-h2', { via: 'h2' })));
  assert.equal((await send(stack, ca, 'POST', `${ws}/api/v1/namespaces/default/configmaps`, 'cm-chunked', configMap('chunked', { via: 'chunks' }), true)).status, 201);
  assert.deepEqual((await completed('cm-chunked')).requestObject, JSON.parse(configMap('chunked', { via: 'chunks' })));

  // Over the bound: both objects left out, the event says why, the shard still got the whole body.
  const big = 'x'.repeat(5000);
  assert.equal((await send(stack, ca, 'POST', `${ws}/api/v1/namespaces/default/configmaps`, 'cm-big', configMap('big', { big }))).status, 201);
  const bigEvent = await completed('cm-big');
  assert.equal(bigEvent.requestObject, undefined);
  assert.equal(bigEvent.responseObject, undefined);
  assert.match(bigEvent.annotations?.['kcp-edge.io/request-object-omitted'] ?? '', /^the body of \d+ bytes is larger than the audit limit of 4096 bytes$/);
  assert.match(bigEvent.annotations?.['kcp-edge.io/response-object-omitted'] ?? '', /larger than the audit limit of 4096 bytes/);
  assert.equal(bigEvent.annotations?.['audit.k8s.io/truncated'], 'true');
  const stored = await send(stack, ca, 'GET', `${ws}/api/v1/namespaces/default/configmaps/big`, 'cm-big-get');
  assert.equal((JSON.parse(stored.body) as { data: { big: string } }).data.big, big, 'forwarded whole');

  // A watch: its events carry no bodies, and its stream reaches the client untouched.
  const controller = new AbortController();
  const watched = new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: stack.gateway.port,
        path: `${ws}/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dsmall`,
        ca,
        agent: false,
        signal: controller.signal,
        headers: { authorization: 'Bearer alice-token', 'audit-id': 'watch-1' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('\n')) resolve(text);
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', (err) => (err.name === 'AbortError' ? undefined : reject(err)));
    req.end();
  });
  assert.match(await watched, /"type":"ADDED".*"name":"small"/);
  await waitFor(() => events.find((e) => e.auditID === 'watch-1' && e.stage === 'ResponseStarted'), { what: 'the watch started' });
  controller.abort();
  const watchEnd = await completed('watch-1');
  assert.equal(watchEnd.level, 'RequestResponse');
  const watchEvents = events.filter((e) => e.auditID === 'watch-1');
  assert.deepEqual(
    watchEvents.map((e) => [e.stage, e.requestObject, e.responseObject, e.annotations?.['kcp-edge.io/response-object-omitted']]),
    [
      ['RequestReceived', undefined, undefined, undefined],
      ['ResponseStarted', undefined, undefined, undefined],
      ['ResponseComplete', undefined, undefined, undefined],
    ],
  );
});

test('kubectl at RequestResponse: a create sent as protobuf records the answer only, a server-side apply both objects', { skip: kubectlMissing }, async (t) => {
  const events: AuditEvent[] = [];
  const policy = await policyOf('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules: [{ level: RequestResponse, verbs: [create, patch] }]\n');
  const observer = new AuditObserver(() => policy, [{ process: (e) => void events.push(e), close: async () => {} }]);
  const stack = await startKubectlStack(t, { observers: [observer] });
  const kubectl = kubectlIn(stack, 'org-acme:proj-frontend');
  await kubectl('create', 'configmap', 'from-kubectl', '--from-literal=colour=blue');
  const create = await waitFor(() => events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps'), {
    what: 'the kubectl create',
  });
  // kubectl sends built-in kinds as protobuf: left out, and said so; the answer it asked for is JSON.
  assert.equal(create.requestObject, undefined);
  assert.match(create.annotations?.['kcp-edge.io/request-object-omitted'] ?? '', /^application\/vnd\.kubernetes\.protobuf is not decoded/);
  assert.equal((create.responseObject as { data: Record<string, string> }).data['colour'], 'blue');

  const manifest = join(stack.dir, 'applied.yaml');
  await import('node:fs/promises').then((fs) => fs.writeFile(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  shape: round\n'));
  await kubectl('apply', '--server-side', '-f', manifest);
  const apply = await waitFor(() => events.find((e) => e.verb === 'patch' && e.objectRef?.name === 'applied'), { what: 'the server-side apply' });
  assert.equal((apply.requestObject as { data: Record<string, string> }).data['shape'], 'round');
  assert.equal((apply.responseObject as { data: Record<string, string> }).data['shape'], 'round');
});
