// One redis-server, a route store on it and a PKI for every test of a file: started before them,
// stopped after. Read the fields inside tests (they are set once the file's `before` has run).
import { after, before } from 'node:test';
import { parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { testPki, type Pki } from './fixtures.ts';

export interface RedisRoutes {
  redis: RedisServer;
  store: RedisRouteStore;
  pki: Pki;
}

export function redisRoutesForFile(): Readonly<RedisRoutes> {
  const shared = {} as RedisRoutes;
  before(async () => {
    [shared.redis, shared.pki] = await Promise.all([startRedis(), testPki()]);
    shared.store = RedisRouteStore.connect(parseRedisUrl(shared.redis.url));
  });
  after(async () => {
    await shared.store.close();
    await shared.redis[Symbol.asyncDispose]();
  });
  return shared;
}
