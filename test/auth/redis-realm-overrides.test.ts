import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { RealmRegistry } from '../../src/auth/realm-registry.ts';
import { realmKeys, RedisRealmOverrides } from '../../src/auth/redis-realm-overrides.ts';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { silentLog } from '../../src/log.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import { credentials, startIssuerFixture } from './fixtures.ts';

test('realm overrides in Redis reach every replica, survive an outage and are re-read after it', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme', 'acme-prod']);
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const connect = () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => undefined); // the outage below is on purpose
    t.after(() => client.disconnect());
    return client;
  };
  const warnings: string[] = [];
  const replicas = await Promise.all(
    [1, 2].map(async () => {
      const registry = new RealmRegistry(settings());
      const overrides = new RedisRealmOverrides({ client: connect(), subscriber: connect(), log: { ...silentLog, warn: (_fields, msg) => void warnings.push(msg) } });
      await overrides.follow(registry);
      const authenticator = new OrgRealmAuthenticator({ realms: registry });
      t.after(() => authenticator.close());
      return authenticator;
    }),
  );
  const writer = new RedisRealmOverrides({ client: connect() });
  const movedToken = await issuer.mint('acme-prod', { user: 'alice' });
  const accepts = (a: OrgRealmAuthenticator) =>
    a.authenticate(credentials('org-acme', movedToken)).then(
      () => true,
      () => false,
    );

  // org-acme follows the template: a token of another realm is refused.
  for (const replica of replicas) assert.equal(await accepts(replica), false);

  await writer.set('org-acme', { issuer: issuer.issuerUrl('acme-prod'), audiences: ['kcp-edge'] });
  for (const replica of replicas) await waitFor(() => accepts(replica), { what: 'the override to reach a replica' });
  assert.equal((await replicas[0]!.authenticate(credentials('org-acme', movedToken)))?.user, 'org-acme:alice');

  // An invalid record next to it is logged and ignored; the valid one stays.
  const raw = connect();
  await raw.hset(realmKeys().realms, 'org-globex', '{"issuer": 42}');
  await raw.publish(realmKeys().channel, '{}');
  await waitFor(() => warnings.some((w) => w.includes('invalid realm override')), { what: 'the invalid override to be logged' });
  assert.equal(await accepts(replicas[1]!), true);

  // Redis goes away: the overrides read last stay in force (a fresh token, so no cached verdict answers).
  await redis.stop();
  const duringOutage = await issuer.mint('acme-prod', { user: 'bob' });
  assert.equal((await replicas[0]!.authenticate(credentials('org-acme', duringOutage)))?.user, 'org-acme:bob');

  // Back, empty (no persistence): a replica re-reads after reconnecting and returns to the template.
  await redis.start();
  for (const replica of replicas) await waitFor(async () => !(await accepts(replica)), { what: 'the re-read after reconnect', timeoutMs: 15_000 });
  await assert.rejects(replicas[0]!.authenticate(credentials('org-acme', movedToken)), (err: unknown) => isGatewayError(err) && err.code === 'UNAUTHORIZED');
  assert.equal((await replicas[0]!.authenticate(credentials('org-acme', await issuer.mint('org-acme'))))?.user, 'org-acme:alice');
});

test('a realm override that breaks the schema is refused before it is written', async (t) => {
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());
  const writer = new RedisRealmOverrides({ client });
  await assert.rejects(writer.set('org-acme', { issuer: 'http://plain.example/realms/x' }), /must match pattern/);
  await assert.rejects(writer.set('Not_An_Org', {}), /not an org name/);
  assert.deepEqual(await client.hgetall(realmKeys().realms), {});
});

test('a replica that starts while Redis is down reads the overrides once its connection comes up', async (t) => {
  const { issuer, settings } = await startIssuerFixture(t, ['org-acme', 'acme-prod']);
  const redis = await startRedis();
  t.after(() => redis[Symbol.asyncDispose]());
  await redis.stop();
  // Fail fast, as the gateway's clients are, and reconnect only after a second: the write below lands first.
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000 });
  client.on('error', () => undefined);
  t.after(() => client.disconnect());
  const registry = new RealmRegistry(settings());
  const warnings: string[] = [];
  await new RedisRealmOverrides({ client, log: { ...silentLog, warn: (_fields, msg) => void warnings.push(msg) } }).follow(registry);
  assert.ok(warnings.some((w) => w.includes('cannot read realm overrides')));

  await redis.start();
  const writerClient = new Redis(redis.url);
  t.after(() => writerClient.disconnect());
  await new RedisRealmOverrides({ client: writerClient }).set('org-acme', { issuer: issuer.issuerUrl('acme-prod') });
  await waitFor(() => registry.realmFor('org-acme')?.issuer === issuer.issuerUrl('acme-prod'), { what: 'the override read after the reconnect' });
});
