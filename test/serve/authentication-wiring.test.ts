// gateway.yaml's authentication section becomes the authenticators the gateway runs, in order: the
// service-account issuers (keys from files), then a TokenReview webhook for what nothing else took;
// their refusals are counted by reason.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Credentials } from '../../src/auth/identity.ts';
import { ServiceAccountAuthenticator } from '../../src/auth/service-account-authenticator.ts';
import { TokenWebhookAuthenticator } from '../../src/auth/token-webhook.ts';
import { loadConfig } from '../../src/config/index.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { gatewayDependencies } from '../../src/serve/gateway-dependencies.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';
import { createServiceAccountSigner } from '../../src/sim/service-account-tokens.ts';
import { makeTempDir } from '../helpers/wait.ts';

test('authentication.serviceAccounts and authentication.webhook are wired, in that order, with shared failure counters', async (t) => {
  await using tmp = await makeTempDir();
  const dir = tmp.dir;
  const ca = await createCertificateAuthority('authn-wiring-ca');
  const [server, client, webhookCert] = await Promise.all([
    ca.issue({ commonName: 'gateway', dnsNames: ['localhost'], usage: 'server' }),
    ca.issue({ commonName: 'gateway-client', usage: 'client' }),
    issueLoopbackServer(ca, 'webhook'),
  ]);
  const webhook = createServer({ cert: webhookCert.certPem, key: webhookCert.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const token = (JSON.parse(body) as { spec: { token: string } }).spec.token;
      const status = token === 'webhook-token' ? { authenticated: true, user: { username: 'hooked', groups: ['g'] } } : { authenticated: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
    });
  });
  webhook.listen(0, '127.0.0.1');
  await once(webhook, 'listening');
  t.after(() => webhook.close());
  const signer = await createServiceAccountSigner('https://kcp.default.svc');

  await mkdir(join(dir, 'certs'));
  await Promise.all([
    writeFile(join(dir, 'certs/gw.crt'), server.certPem),
    writeFile(join(dir, 'certs/gw.key'), server.keyPem),
    writeFile(join(dir, 'certs/client.crt'), client.certPem),
    writeFile(join(dir, 'certs/client.key'), client.keyPem),
    writeFile(join(dir, 'certs/ca.crt'), ca.certPem),
    writeFile(join(dir, 'certs/sa.pub'), signer.publicKeyPem),
    writeFile(join(dir, 'routing.yaml'), 'shards:\n  - { name: a, url: "https://127.0.0.1:1" }\nroutes:\n  - { path: root:org-acme:web, shard: a, cluster: c1 }\n'),
    writeFile(
      join(dir, 'webhook.kubeconfig'),
      `clusters: [{ name: hook, cluster: { server: "https://127.0.0.1:${(webhook.address() as AddressInfo).port}/review", certificate-authority: certs/ca.crt } }]\n`,
    ),
  ]);
  const file = join(dir, 'gateway.yaml');
  await writeFile(
    file,
    [
      'tls: { certFile: certs/gw.crt, keyFile: certs/gw.key }',
      'routing: { embedded: { file: routing.yaml } }',
      'upstream: { clientCertFile: certs/client.crt, clientKeyFile: certs/client.key }',
      'shardHealth: { enabled: false }',
      'authentication:',
      '  serviceAccounts:',
      '    issuers: [{ issuer: https://kcp.default.svc, keyFiles: [certs/sa.pub] }]',
      '    lookup: { enabled: false }',
      '  webhook: { configFile: webhook.kubeconfig, timeoutSeconds: 2 }',
    ].join('\n'),
  );
  const config = await loadConfig(gatewayConfigKind, file);
  const deps = await gatewayDependencies(config, pino({ level: 'silent' }));
  t.after(() => deps.close());
  const authenticators = deps.options.authenticators;
  assert.deepEqual(
    authenticators.map((a) => a.constructor),
    [ServiceAccountAuthenticator, TokenWebhookAuthenticator],
  );

  const on = (token: string, cluster: string): Credentials => ({ token, cluster, org: 'org-acme', workspace: 'root:org-acme:web', clientCertificate: undefined });
  const { token } = await signer.mintBound({ cluster: 'c1', namespace: 'ci', name: 'flux', uid: 'u1' });
  assert.equal((await authenticators[0]!.authenticate(on(token, 'c1')))?.user, 'system:serviceaccount:ci:flux');
  await assert.rejects(authenticators[0]!.authenticate(on(token, 'c2')));
  assert.equal(await authenticators[0]!.authenticate(on('webhook-token', 'c1')), undefined, 'not a service-account token: left to the webhook');
  assert.equal((await authenticators[1]!.authenticate(on('webhook-token', 'c1')))?.user, 'hooked');
  await assert.rejects(authenticators[1]!.authenticate(on('nobody', 'c1')));

  const metrics = await deps.options.registry!.metrics();
  assert.match(metrics, /kcp_edge_authn_failures_total\{reason="cluster_mismatch"\} 1/);
  assert.match(metrics, /kcp_edge_authn_failures_total\{reason="webhook_denied"\} 1/);
});
