// Service-account tokens across a move, through the gateway of `kcp-edge dev --redis`. A controller
// reads configmaps as ServiceAccount `reporter`, once with a legacy token Secret, once with a bound token
// (TokenRequest). After the move the old tokens are no longer honoured (they name the source's
// ServiceAccount uid); the Secret holds a token the target issued for its own ServiceAccount, a new
// TokenRequest gives a bound one, and the controller, fetching its token again on 401, goes on working.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';
import { KubeApiError, RestClient } from '../../src/kube/rest-client.ts';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const path = 'root:org-acme:proj-frontend';
const ns = '/api/v1/namespaces/default';

/** A controller as client-go runs one with a token file: on 401 it reads its token again and retries once. */
class TokenController {
  refreshes = 0;
  #token: string | undefined;
  readonly #server: string;
  readonly #caPem: string;
  readonly #fetchToken: () => Promise<string>;

  constructor(server: string, caPem: string, fetchToken: () => Promise<string>) {
    this.#server = server;
    this.#caPem = caPem;
    this.#fetchToken = fetchToken;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** One reconcile: lists the configmaps it watches over. */
  async reconcile(): Promise<number> {
    this.#token ??= await this.#fetchToken();
    try {
      return await this.#list();
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 401)) throw err;
      this.#token = await this.#fetchToken();
      this.refreshes++;
      return this.#list();
    }
  }

  async #list(): Promise<number> {
    const client = new RestClient({ server: `${this.#server}/clusters/${path}`, token: this.#token!, caPem: this.#caPem });
    try {
      return (await client.list(`${ns}/configmaps`)).items.length;
    } finally {
      await client.close();
    }
  }
}

test('dev --redis: a controller using a service-account token recovers after its workspace moves', async (t) => {
  await using tmp = await makeTempDir();
  await using redis = await startRedis();
  const stack = await startDevStack({ dir: tmp.dir, port: 0, redis: redis.url });
  t.after(() => stack.stop());
  const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
  t.after(() => store.close());
  const shardAdmin = join(tmp.dir, 'shard-admin.kubeconfig');
  await writeFile(shardAdmin, await stack.shards.get('shard-a')!.kubeconfig());
  const caPem = stack.ca!.certPem;
  const alice = new RestClient({ server: `${stack.url}/clusters/${path}`, token: stack.users.find((u) => u.name === 'alice')!.token, caPem });
  t.after(() => alice.close());

  // The workspace's admin gives `reporter` read access to configmaps and a legacy token Secret.
  await alice.request('POST', `${ns}/serviceaccounts`, { body: { metadata: { name: 'reporter' } } });
  await alice.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', {
    body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] },
  });
  await alice.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
    body: {
      metadata: { name: 'reporter-reads' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reporter', namespace: 'default' }],
    },
  });
  await alice.request('POST', `${ns}/secrets`, {
    body: { metadata: { name: 'reporter-token', annotations: { 'kubernetes.io/service-account.name': 'reporter' } }, type: 'kubernetes.io/service-account-token' },
  });
  await alice.request('POST', `${ns}/configmaps`, { body: { metadata: { name: 'watched' }, data: { k: 'v' } } });
  const secretToken = async () => {
    const secret = await alice.get(`${ns}/secrets/reporter-token`);
    const token = (secret['data'] as Record<string, string> | undefined)?.['token'];
    return token === undefined ? undefined : Buffer.from(token, 'base64').toString('utf8');
  };
  const legacy = new TokenController(stack.url, caPem, () => waitFor(secretToken, { what: 'the token controller to fill reporter-token' }));
  const bound = new TokenController(stack.url, caPem, async () => {
    const review = await alice.request<{ status: { token: string } }>('POST', `${ns}/serviceaccounts/reporter/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    return review.status.token;
  });
  for (const controller of [legacy, bound]) assert.ok((await controller.reconcile()) >= 1);
  const before = { legacy: legacy.token!, bound: bound.token! };
  assert.deepEqual([legacy.refreshes, bound.refreshes], [0, 0]);

  const moved = await run(process.execPath, ['src/cli.ts', 'workspaces', 'move', path, '--to', 'shard-b', '--kubeconfig', shardAdmin], {
    env: { PATH: process.env.PATH ?? '', KCP_EDGE_REDIS_URL: redis.url },
  });
  assert.match(moved.stdout, /moved shard-a → shard-b/);
  assert.equal((await store.getRoute(path))?.shard, 'shard-b');

  // The Secret on shard-b holds a token shard-b issued for its own `reporter`, not the copied one.
  const reissued = await waitFor(
    async () => {
      const token = await secretToken();
      return token !== undefined && token !== before.legacy ? token : undefined;
    },
    { what: 'a re-issued legacy token' },
  );
  const claims = JSON.parse(Buffer.from(reissued.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, string>;
  const reporter = await alice.get(`${ns}/serviceaccounts/reporter`);
  assert.equal(claims['kubernetes.io/serviceaccount/service-account.uid'], reporter.metadata.uid, "the new token names shard-b's ServiceAccount");

  // The old tokens are refused once the gateway's answer about them is renewed (2 s in dev); the
  // controllers fetch theirs again and work.
  const statusWith = async (token: string) => {
    const client = new RestClient({ server: `${stack.url}/clusters/${path}`, token, caPem });
    try {
      await client.list(`${ns}/configmaps`);
      return 200;
    } catch (err) {
      return err instanceof KubeApiError ? err.status : 0;
    } finally {
      await client.close();
    }
  };
  for (const [what, token] of Object.entries(before)) await waitFor(async () => (await statusWith(token)) === 401, { what: `the old ${what} token to be refused` });
  for (const controller of [legacy, bound]) assert.ok((await controller.reconcile()) >= 1, 'the controller works again');
  assert.deepEqual([legacy.refreshes, bound.refreshes], [1, 1], 'each fetched its token once more');
  assert.equal(legacy.token, reissued);
  assert.notEqual(bound.token, before.bound);
});
