// The token webhook against a real HTTPS TokenReview service this test runs: mTLS both ways, the
// kube-apiserver config file format, TokenReview v1 on the wire, cached answers (positive and
// negative, each with its own TTL), and a timeout or error that refuses the token and is not cached.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { test, type TestContext } from 'node:test';
import type { AuthFailure, AuthFailureReason } from '../../src/auth/auth-failure.ts';
import type { Credentials } from '../../src/auth/identity.ts';
import { TokenWebhookAuthenticator, type TokenWebhookSettings } from '../../src/auth/token-webhook.ts';
import { loadWebhookKubeconfig } from '../../src/auth/webhook-kubeconfig.ts';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { get, startTestGateway, startTestShard, StaticRoutingTable, testPki } from '../gateway/fixtures.ts';

interface Review {
  apiVersion: string;
  kind: string;
  spec: { token: string };
}

interface Webhook {
  url: string;
  received: Review[];
  clientCNs: string[];
  /** What the service does with the next reviews. */
  mode: 'answer' | 'hang' | 'fail';
}

async function startWebhook(t: TestContext, serverCert: { certPem: string; keyPem: string }, clientCA: string): Promise<Webhook> {
  const webhook: Webhook = { url: '', received: [], clientCNs: [], mode: 'answer' };
  const server: Server = createServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: clientCA, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      webhook.clientCNs.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
      const review = JSON.parse(Buffer.concat(chunks).toString()) as Review;
      webhook.received.push(review);
      if (webhook.mode === 'hang') return; // never answers
      if (webhook.mode === 'fail') {
        res.writeHead(500).end('boom');
        return;
      }
      const token = review.spec.token;
      const status = token.startsWith('good-')
        ? { authenticated: true, user: { username: `ldap:${token.slice(5)}`, uid: '42', groups: ['ldap:ops', 'system:masters'], extra: { 'example.io/team': ['blue'] } } }
        : { authenticated: false, error: 'unknown token' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  webhook.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/authenticate`;
  return webhook;
}

async function fixture(t: TestContext, overrides: Partial<TokenWebhookSettings> = {}) {
  const ca = await createCertificateAuthority('webhook-test-ca');
  const webhook = await startWebhook(t, await issueLoopbackServer(ca, 'authn-webhook'), ca.certPem);
  const client = await ca.issue({ commonName: 'kcp-edge-gateway', usage: 'client' });
  const tmp = await makeTempDir();
  t.after(() => tmp[Symbol.asyncDispose]());
  // kube's documented layout: cluster = the remote service, user = the API server's credentials; files relative to the config.
  await Promise.all([
    writeFile(join(tmp.dir, 'ca.crt'), ca.certPem),
    writeFile(join(tmp.dir, 'client.crt'), client.certPem),
    writeFile(join(tmp.dir, 'client.key'), client.keyPem),
    writeFile(
      join(tmp.dir, 'webhook.kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: name-of-remote-authn-service',
        '    cluster:',
        '      certificate-authority: ca.crt',
        `      server: ${webhook.url}`,
        'users:',
        '  - name: name-of-api-server',
        '    user:',
        '      client-certificate: client.crt',
        '      client-key: client.key',
        'current-context: webhook',
        'contexts:',
        '  - context:',
        '      cluster: name-of-remote-authn-service',
        '      user: name-of-api-server',
        '    name: webhook',
        '',
      ].join('\n'),
    ),
  ]);
  const endpoint = await loadWebhookKubeconfig(join(tmp.dir, 'webhook.kubeconfig'));
  const authenticator = new TokenWebhookAuthenticator({ endpoint, cacheTtlMs: 60_000, negativeCacheTtlMs: 60_000, timeoutMs: 2_000, maxTokenBytes: 16_384, ...overrides });
  t.after(() => authenticator.close());
  return { webhook, authenticator };
}

const bearer = (token: string): Credentials => ({ token, org: 'org-acme', workspace: 'root:org-acme:proj', cluster: 'c-proj', clientCertificate: undefined });

async function refusal(authenticator: TokenWebhookAuthenticator, token: string): Promise<AuthFailureReason> {
  try {
    await authenticator.authenticate(bearer(token));
  } catch (err) {
    assert.ok(isGatewayError(err) && err.code === 'UNAUTHORIZED');
    return (err.cause as AuthFailure).reason;
  }
  assert.fail('accepted');
}

test('an authenticated TokenReview becomes the identity; the review is v1 and sent over mTLS; answers are cached', async (t) => {
  const { webhook, authenticator } = await fixture(t);
  const identity = await authenticator.authenticate(bearer('good-dave'));
  assert.deepEqual(identity, { user: 'ldap:dave', groups: ['ldap:ops', 'system:masters'], extra: { 'example.io/team': ['blue'] } });
  assert.deepEqual(webhook.received[0], {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    metadata: { creationTimestamp: null },
    spec: { token: 'good-dave' },
    status: { user: {} },
  } as unknown as Review);
  assert.deepEqual(webhook.clientCNs, ['kcp-edge-gateway']);
  await authenticator.authenticate(bearer('good-dave'));
  assert.equal(webhook.received.length, 1, 'the positive answer was cached');

  assert.equal(await refusal(authenticator, 'stolen'), 'webhook_denied');
  assert.equal(await refusal(authenticator, 'stolen'), 'webhook_denied');
  assert.equal(webhook.received.length, 2, 'the negative answer was cached');
});

test('positive and negative answers expire on their own TTLs', async (t) => {
  const { webhook, authenticator } = await fixture(t, { cacheTtlMs: 60_000, negativeCacheTtlMs: 150 });
  await authenticator.authenticate(bearer('good-erin'));
  await refusal(authenticator, 'nope');
  assert.equal(webhook.received.length, 2);
  await waitFor(async () => (await refusal(authenticator, 'nope'), webhook.received.length === 3), { what: 'the negative answer to expire', timeoutMs: 3000 });
  await authenticator.authenticate(bearer('good-erin'));
  assert.equal(webhook.received.length, 3, 'the positive answer is still cached');
});

test('a webhook that hangs past the timeout, or fails, refuses the token (fails closed), and nothing is cached', async (t) => {
  const { webhook, authenticator } = await fixture(t, { timeoutMs: 300 });
  webhook.mode = 'hang';
  const started = Date.now();
  assert.equal(await refusal(authenticator, 'good-frank'), 'webhook_unavailable');
  const took = Date.now() - started;
  t.diagnostic(`refused after ${took} ms (timeout 300 ms)`);
  assert.ok(took < 2000, `took ${took} ms`);
  webhook.mode = 'fail';
  assert.equal(await refusal(authenticator, 'good-frank'), 'webhook_unavailable');
  webhook.mode = 'answer';
  assert.equal((await authenticator.authenticate(bearer('good-frank')))?.user, 'ldap:frank', 'the failures were not cached');
});

test('through the gateway: the webhook identity reaches the shard (privileged groups dropped); a denied token is 401', async (t) => {
  const pki = await testPki();
  const shard = await startTestShard(t, pki);
  const routing = new StaticRoutingTable().addShard('a', shard.url).addRoute('root:org-acme:proj', 'a', 'c-proj');
  const { authenticator } = await fixture(t);
  const gateway = await startTestGateway(t, pki, routing, { authenticators: [authenticator] });
  const ok = await get(gateway, pki, '/clusters/org-acme:proj/api/v1/namespaces', { token: 'good-gina' });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(shard.seen[0]!.headers['x-remote-user'], 'ldap:gina');
  assert.equal(shard.seen[0]!.headers['x-remote-group'], 'ldap:ops');
  const denied = await get(gateway, pki, '/clusters/org-acme:proj/api/v1/namespaces', { token: 'bad' });
  assert.equal(denied.status, 401);
  assert.equal(JSON.parse(denied.body).kind, 'Status');
});
