import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import { resolveWorkspace } from '../../../src/gateway/stages/resolve-workspace.ts';
import type { Resolution, RoutingTable } from '../../../src/routing/types.ts';
import { fakeContext, resolution, shard } from '../fake-context.ts';

const east = shard('east');
const west = shard('west');

/** A routing table over a fixed map, recording what was asked. */
function table(routes: Record<string, Resolution>, shards = [east, west]): RoutingTable & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: async (key) => {
      asked.push(key);
      return routes[key];
    },
    getShard: async (name) => shards.find((s) => s.name === name),
    listShards: async () => shards,
    ready: () => true,
    close: async () => {},
  };
}

async function resolved(url: string, routing: RoutingTable) {
  const { ctx } = fakeContext({ url });
  parseWorkspacePath(ctx);
  await resolveWorkspace(routing)(ctx);
  return ctx;
}

test('a known workspace becomes the target, with its shard', async () => {
  const acme = resolution('root:org-acme', east, 'c-acme');
  const ctx = await resolved('/clusters/root:org-acme/api', table({ 'root:org-acme': acme }));
  assert.deepEqual(ctx.resolutions, [acme]);
  assert.equal(ctx.target, acme);
});

test('an unknown workspace is only recorded: no target, no answer yet', async () => {
  const ctx = await resolved('/clusters/root:org-nobody/api', table({}));
  assert.deepEqual(ctx.resolutions, [undefined]);
  assert.equal(ctx.target, undefined);
  assert.equal(ctx.responded, false);
});

test('every workspace of an APIExport URL is looked up; the target is the one the request is routed by', async () => {
  const provider = resolution('root:providers:compute', east, 'c-prov');
  const consumer = resolution('root:org-acme', west, 'c-acme');
  const routing = table({ 'root:providers:compute': provider, 'root:org-acme': consumer });
  const ctx = await resolved('/services/apiexport/root:providers:compute/compute.example.com/clusters/root:org-acme/api', routing);
  assert.deepEqual(ctx.resolutions, [provider, consumer]);
  assert.equal(ctx.target, ctx.resolutions[ctx.parsed!.routeBy]);
});

test('any unknown workspace among several leaves no target', async () => {
  const provider = resolution('root:providers:compute', east, 'c-prov');
  const ctx = await resolved('/services/apiexport/root:providers:compute/compute.example.com/clusters/root:org-gone/api', table({ 'root:providers:compute': provider }));
  assert.equal(ctx.target, undefined);
});

test('a bare name is tried as a logical cluster first, then as an org under root', async () => {
  const acme = resolution('root:org-acme', east, 'c-acme');
  const routing = table({ 'root:org-acme': acme });
  const ctx = await resolved('/clusters/org-acme/api', routing);
  assert.deepEqual(routing.asked, ['org-acme', 'root:org-acme']);
  assert.equal(ctx.target, acme);
});

test('a path that names its shard is served by that shard, with the workspace route', async () => {
  const provider = resolution('root:providers:compute', east, 'c-prov');
  const routing = table({ 'c-prov': provider });
  const ctx = await resolved('/shards/west/services/apiexport/c-prov/compute.example.com/clusters/*/apis/compute.example.com/v1/vms', routing);
  assert.equal(ctx.target?.shard, west);
  assert.equal(ctx.target?.route, provider.route);
});

test('an unknown shard leaves no target, as an unknown workspace does', async () => {
  const provider = resolution('root:providers:compute', east, 'c-prov');
  const ctx = await resolved('/shards/north/services/apiexport/c-prov/compute.example.com/clusters/*/api', table({ 'c-prov': provider }));
  assert.equal(ctx.target, undefined);
  assert.equal(ctx.responded, false);
});

test('a route the store holds is taken at once; one it does not hold is asked for', async () => {
  const acme = resolution('root:org-acme', east, 'c-acme');
  const cold = resolution('root:org-cold', west, 'c-cold');
  const routing = { ...table({ 'root:org-cold': cold }), held: (key: string) => (key === 'root:org-acme' ? acme : undefined) };
  const warm = fakeContext({ url: '/clusters/root:org-acme/api' }).ctx;
  parseWorkspacePath(warm);
  assert.equal(resolveWorkspace(routing)(warm), undefined, 'answered synchronously');
  assert.equal(warm.target, acme);
  assert.deepEqual(routing.asked, []);
  const ctx = await resolved('/clusters/root:org-cold/api', routing);
  assert.equal(ctx.target, cold);
  assert.deepEqual(routing.asked, ['root:org-cold']);
});

test('a path that names its shard is served by that shard even when the route is held', async () => {
  const provider = resolution('root:providers:compute', east, 'c-prov');
  const routing = { ...table({ 'c-prov': provider }), held: (key: string) => (key === 'c-prov' ? provider : undefined) };
  const ctx = await resolved('/shards/west/services/apiexport/c-prov/compute.example.com/clusters/*/apis/compute.example.com/v1/vms', routing);
  assert.equal(ctx.target?.shard, west);
});
