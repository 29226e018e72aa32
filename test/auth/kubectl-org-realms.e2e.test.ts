// End to end as a new user would try it: real kubectl, real signed tokens of two org realms, the
// gateway and a stand-in shard. A token of an org-globex user is refused on an org-acme workspace
// (and its write never lands) and works on its own org's workspace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { orgRealmsSettings } from '../../src/auth/realm-settings.ts';
import { startGateway } from '../../src/gateway/server.ts';
import { startOidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { createCertificateAuthority, issueLoopbackServer, startShard } from '../../src/sim/index.ts';
import { StaticRoutingTable } from '../gateway/fixtures.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed: the kubectl end-to-end tests need it`;

const workspaces = [
  { path: 'root:org-acme:proj-frontend', context: 'org-acme:proj-frontend', cluster: 'acmefr0nt' },
  { path: 'root:org-globex:proj-backend', context: 'org-globex:proj-backend', cluster: 'gl0bexb4ck' },
];

test('kubectl with org realm tokens: a globex user gets 401 on an acme workspace and works on its own', { skip }, async (t) => {
  const temp = await makeTempDir();
  t.after(() => temp[Symbol.asyncDispose]());
  const ca = await createCertificateAuthority('e2e-ca');
  const frontProxyCA = await createCertificateAuthority('e2e-front-proxy-ca');
  const [gatewayServing, gatewayClient, issuerServing] = await Promise.all([
    issueLoopbackServer(ca, 'kcp-edge'),
    frontProxyCA.issue({ commonName: 'kcp-edge-gateway', usage: 'client' }),
    issueLoopbackServer(ca, 'keycloak'),
  ]);
  const issuer = await startOidcIssuer({ tls: issuerServing, realms: ['org-acme', 'org-globex'] });
  t.after(() => issuer.close());
  const shard = await startShard({ name: 'shard-a', ca, requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: ['kcp-edge-gateway'] });
  t.after(() => shard.close());

  const routing = new StaticRoutingTable().addShard(shard.name, shard.url);
  const admin = await shard.client();
  for (const ws of workspaces) {
    routing.addRoute(ws.path, shard.name, ws.cluster);
    const created = await admin.request('POST', `/clusters/${ws.cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`, {
      body: { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', annotations: { 'kcp.io/path': ws.path } }, spec: {} },
    });
    assert.ok(created.status < 300, `logical cluster ${ws.cluster}: ${created.status} ${created.text}`);
    const ns = await admin.request('POST', `/clusters/${ws.cluster}/api/v1/namespaces`, { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
    assert.ok(ns.status < 300 || ns.status === 409, `namespace default in ${ws.cluster}: ${ns.text}`);
  }

  const authenticator = new OrgRealmAuthenticator({ realms: orgRealmsSettings({ issuerTemplate: `${issuer.url}/realms/{org}`, ca: ca.certPem }) });
  t.after(() => authenticator.close());
  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: gatewayServing.certPem, keyPem: gatewayServing.keyPem },
    routing,
    authenticators: [authenticator],
    upstream: { clientCertPem: gatewayClient.certPem, clientKeyPem: gatewayClient.keyPem, caPem: ca.certPem },
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 2000,
  });
  t.after(() => gateway.close());

  const alice = await issuer.mint('org-acme', { user: 'alice', groups: ['web'] });
  const carol = await issuer.mint('org-globex', { user: 'carol', groups: ['backend'] });
  const caFile = join(temp.dir, 'ca.crt');
  await writeFile(caFile, ca.certPem);
  const kubeconfig = join(temp.dir, 'kubeconfig');
  const contexts = [
    { name: 'acme-as-alice', ws: workspaces[0]!, user: 'alice' },
    { name: 'acme-as-carol', ws: workspaces[0]!, user: 'carol' },
    { name: 'globex-as-carol', ws: workspaces[1]!, user: 'carol' },
  ];
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: workspaces.map((ws) => ({ name: ws.context, cluster: { server: `${gateway.url}/clusters/${ws.context}`, 'certificate-authority': caFile } })),
      users: [
        { name: 'alice', user: { token: alice } },
        { name: 'carol', user: { token: carol } },
      ],
      contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.ws.context, user: c.user } })),
      'current-context': 'acme-as-alice',
    }),
  );
  const kubectl = (context: string, ...args: string[]) => run(kubectlPath, ['--kubeconfig', kubeconfig, '--context', context, ...args]);

  const whoami = JSON.parse((await kubectl('acme-as-alice', 'auth', 'whoami', '-o', 'json')).stdout) as { status: { userInfo: { username: string; groups?: string[] } } };
  assert.equal(whoami.status.userInfo.username, 'org-acme:alice');
  assert.ok(whoami.status.userInfo.groups?.includes('org-acme:web'));
  await kubectl('acme-as-alice', 'create', 'configmap', 'from-alice', '-n', 'default', '--from-literal=k=v');

  await assert.rejects(kubectl('acme-as-carol', 'create', 'configmap', 'from-carol', '-n', 'default', '--from-literal=k=v'), (err: { stderr: string }) => {
    assert.match(err.stderr, /Unauthorized/);
    return true;
  });
  await assert.rejects(kubectl('acme-as-carol', 'get', 'configmaps', '-n', 'default'), (err: { stderr: string }) =>
    /the server has asked for the client to provide credentials|Unauthorized/.test(err.stderr),
  );
  // The refused write never reached the shard: only alice's configmap exists there.
  const listed = await admin.request('GET', `/clusters/${workspaces[0]!.cluster}/api/v1/namespaces/default/configmaps`);
  const names = (JSON.parse(listed.text) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
  assert.ok(names.includes('from-alice'));
  assert.ok(!names.includes('from-carol'), `names: ${names.join(', ')}`);

  const own = JSON.parse((await kubectl('globex-as-carol', 'auth', 'whoami', '-o', 'json')).stdout) as { status: { userInfo: { username: string } } };
  assert.equal(own.status.userInfo.username, 'org-globex:carol');
  await kubectl('globex-as-carol', 'create', 'configmap', 'from-carol', '-n', 'default', '--from-literal=k=v');
  assert.match((await kubectl('globex-as-carol', 'get', 'configmap', 'from-carol', '-n', 'default', '-o', 'name')).stdout, /configmap\/from-carol/);
});
