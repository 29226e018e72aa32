// The stand-in issues service-account tokens as kcp does: TokenRequest (`kubectl create token`),
// legacy token Secrets, and the issuer's discovery and keys for relying parties.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { shardForTest } from './fixture.ts';

const run = promisify(execFile);
const kubectlPath = '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `${kubectlPath} is not installed`;

test('kubectl create token: a bound token naming the logical cluster, signed by the key the issuer publishes', { skip }, async (t) => {
  const { shard, admin } = await shardForTest(t);
  await using tmp = await makeTempDir();
  const kubeconfig = join(tmp.dir, 'kubeconfig');
  await writeFile(kubeconfig, await shard.kubeconfig());
  // Every namespace gets its default ServiceAccount.
  const sa = await waitFor(
    async () => {
      const r = await admin.request<{ metadata: { uid: string } }>('GET', '/clusters/root/api/v1/namespaces/default/serviceaccounts/default');
      return r.status === 200 ? r.body : undefined;
    },
    { what: 'the default ServiceAccount' },
  );

  const { stdout } = await run(kubectlPath, ['--kubeconfig', kubeconfig, 'create', 'token', 'default', '--duration', '20m']);
  const token = stdout.trim();
  const claims = decodeJwt(token);
  assert.equal(claims.iss, shard.serviceAccountIssuer);
  assert.deepEqual(claims.aud, [shard.serviceAccountIssuer]);
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.equal(claims.exp! - claims.iat!, 1200);
  assert.deepEqual(claims['kubernetes.io'], { clusterName: 'root', namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid } });

  // Discovery without a client certificate, as a relying party fetches it.
  const discovery = (await getJson(`${shard.url}/.well-known/openid-configuration`, shard.caPem)) as { issuer: string; jwks_uri: string };
  assert.equal(discovery.issuer, shard.serviceAccountIssuer);
  const jwks = (await getJson(discovery.jwks_uri, shard.caPem)) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: shard.serviceAccountIssuer, audience: shard.serviceAccountIssuer });
  assert.equal(payload.sub, 'system:serviceaccount:default:default');

  const missing = await run(kubectlPath, ['--kubeconfig', kubeconfig, 'create', 'token', 'nobody']).catch((err: { stderr: string }) => err);
  assert.match((missing as { stderr: string }).stderr, /serviceaccounts "nobody" not found/);
});

test('a kubernetes.io/service-account-token Secret gets its legacy token filled in', async (t) => {
  const { admin } = await shardForTest(t);
  const sa = await admin.request<{ metadata: { uid: string } }>('POST', '/clusters/root/api/v1/namespaces/default/serviceaccounts', { body: { metadata: { name: 'robot' } } });
  assert.equal(sa.status, 201);
  const created = await admin.request('POST', '/clusters/root/api/v1/namespaces/default/secrets', {
    body: { metadata: { name: 'robot-token', annotations: { 'kubernetes.io/service-account.name': 'robot' } }, type: 'kubernetes.io/service-account-token' },
  });
  assert.equal(created.status, 201);
  const secret = await waitFor(
    async () => {
      const r = await admin.request<{ data?: { token?: string }; metadata: { annotations: Record<string, string> } }>(
        'GET',
        '/clusters/root/api/v1/namespaces/default/secrets/robot-token',
      );
      return r.body.data?.token !== undefined ? r.body : undefined;
    },
    { what: 'the token to be filled in' },
  );
  assert.equal(secret.metadata.annotations['kubernetes.io/service-account.uid'], sa.body.metadata.uid);
  const claims = decodeJwt(Buffer.from(secret.data!.token!, 'base64').toString());
  assert.equal(claims.iss, 'kubernetes/serviceaccount');
  assert.equal(claims['kubernetes.io/serviceaccount/clusterName'], 'root');
  assert.equal(claims['kubernetes.io/serviceaccount/secret.name'], 'robot-token');
  assert.equal(claims['kubernetes.io/serviceaccount/service-account.uid'], sa.body.metadata.uid);
});

async function getJson(url: string, caPem: string): Promise<unknown> {
  const agent = new Agent({ connect: { ca: caPem } });
  try {
    const { statusCode, body } = await request(url, { dispatcher: agent });
    assert.equal(statusCode, 200, url);
    return await body.json();
  } finally {
    await agent.close();
  }
}

test('a deleted default ServiceAccount comes back with a new uid, as kube-controller-manager recreates it', async (t) => {
  const { admin } = await shardForTest(t);
  const path = '/clusters/root/api/v1/namespaces/default/serviceaccounts/default';
  const before = await admin.request<{ metadata: { uid: string } }>('GET', path);
  assert.equal(before.status, 200);
  assert.equal((await admin.request('DELETE', path)).status, 200);
  const after = await waitFor(
    async () => {
      const r = await admin.request<{ metadata: { uid: string } }>('GET', path);
      return r.status === 200 ? r.body : undefined;
    },
    { what: 'the default ServiceAccount to come back' },
  );
  assert.notEqual(after.metadata.uid, before.body.metadata.uid);
});
