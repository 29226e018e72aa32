import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/kube/rest-client.ts';
import { WorkspaceIndex } from '../../src/routing/workspace-index.ts';

const lc = (cluster: string, path?: string, phase = 'Ready'): KubeObject => ({
  metadata: { name: 'cluster', annotations: { 'kcp.io/cluster': cluster, ...(path === undefined ? {} : { 'kcp.io/path': path }) } },
  status: { phase },
});
const ws = (parent: string, name: string, spec: { cluster?: string; URL?: string }, phase?: string): KubeObject => ({
  metadata: { name, annotations: { 'kcp.io/cluster': parent } },
  spec,
  ...(phase === undefined ? {} : { status: { phase } }),
});
// spec.URL is the front door's address (kcp's external URL): it names no shard, and the index never reads it.
const edge = 'https://edge.example.com';

test('the route of a logical cluster follows KCP objects', async () => {
  const cases: { name: string; setup(i: WorkspaceIndex): void; cluster: string; parents?: Record<string, string>; current?: string; want: unknown }[] = [
    { name: 'unscheduled workspace: no route', setup: (i) => i.setWorkspace('a', 'root', ws('root', 'org', {}, 'Scheduling'), false), cluster: 'x', want: undefined },
    {
      name: 'initializing: routed but unavailable, shard from its LogicalCluster, path from the parent',
      setup: (i) => {
        i.setLogicalCluster('a', 'root', lc('root', 'root'));
        i.setWorkspace('a', 'root', ws('root', 'org', { cluster: 'orgc', URL: `${edge}/clusters/root:org` }, 'Initializing'), false);
        i.setLogicalCluster('b', 'orgc', lc('orgc', undefined, 'Initializing'));
      },
      cluster: 'orgc',
      want: { path: 'root:org', shard: 'b', cluster: 'orgc', phase: 'Unavailable' },
    },
    {
      name: 'ready, parent path known only to the table',
      setup: (i) => {
        i.setWorkspace('b', 'parentc', ws('parentc', 'team', { cluster: 'teamc', URL: `${edge}/clusters/root:org:team` }, 'Ready'), false);
        i.setLogicalCluster('a', 'teamc', lc('teamc'));
      },
      parents: { parentc: 'root:org' },
      cluster: 'teamc',
      want: { path: 'root:org:team', shard: 'a', cluster: 'teamc', phase: 'Ready' },
    },
    {
      name: 'the shard holding the LogicalCluster wins, whatever spec.URL says; its path annotation over derivation',
      setup: (i) => {
        i.setWorkspace('a', 'root', ws('root', 'org', { cluster: 'orgc', URL: 'https://a:6443/clusters/orgc' }, 'Ready'), false);
        i.setLogicalCluster('b', 'orgc', lc('orgc', 'root:org'));
      },
      cluster: 'orgc',
      want: { path: 'root:org', shard: 'b', cluster: 'orgc', phase: 'Ready' },
    },
    {
      name: 'workspace and logical cluster gone: no route',
      setup: (i) => {
        i.setWorkspace('a', 'root', ws('root', 'org', { cluster: 'orgc', URL: 'https://a:6443/clusters/orgc' }, 'Ready'), false);
        i.setLogicalCluster('a', 'orgc', lc('orgc', 'root:org'));
        i.setWorkspace('a', 'root', ws('root', 'org', {}), true);
        i.setLogicalCluster('a', 'orgc', undefined);
      },
      cluster: 'orgc',
      want: undefined,
    },
    {
      name: 'a scheduled Workspace whose LogicalCluster no shard serves yet: no route',
      setup: (i) => {
        i.setLogicalCluster('a', 'root', lc('root', 'root'));
        i.setWorkspace('a', 'root', ws('root', 'org', { cluster: 'orgc', URL: `${edge}/clusters/root:org` }, 'Initializing'), false);
      },
      cluster: 'orgc',
      want: undefined,
    },
    {
      name: 'two holders (a move): stays where it is routed until the old copy goes',
      setup: (i) => {
        i.setLogicalCluster('a', 'orgc', lc('orgc', 'root:org'));
        i.setLogicalCluster('b', 'orgc', lc('orgc', 'root:org'));
      },
      current: 'b',
      cluster: 'orgc',
      want: { path: 'root:org', shard: 'b', cluster: 'orgc', phase: 'Ready' },
    },
    {
      name: 'unknown parent path: no route yet',
      setup: (i) => {
        i.setWorkspace('a', 'nowhere', ws('nowhere', 'x', { cluster: 'xc', URL: `${edge}/clusters/x` }, 'Ready'), false);
        i.setLogicalCluster('a', 'xc', lc('xc'));
      },
      cluster: 'xc',
      want: undefined,
    },
  ];
  for (const c of cases) {
    const index = new WorkspaceIndex();
    c.setup(index);
    const got = await index.desired(c.cluster, async (p) => c.parents?.[p], c.current);
    assert.deepEqual(got, c.want, c.name);
  }
});

test('a parent whose path arrives later marks its children for re-routing', () => {
  const index = new WorkspaceIndex();
  index.setWorkspace('a', 'orgc', ws('orgc', 'team', { cluster: 'teamc' }, 'Ready'), false);
  assert.deepEqual(index.setLogicalCluster('a', 'orgc', lc('orgc', 'root:org')), ['orgc', 'teamc']);
});
