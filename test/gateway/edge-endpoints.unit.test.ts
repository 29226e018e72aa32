import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeOrigin, edgeUrlMapper, isRewritableJSON, rewriteBody, urlListOf, WatchLineRewriter } from '../../src/gateway/edge-endpoints.ts';
import type { Shard } from '../../src/routing/types.ts';

const shards: Shard[] = [
  { name: 'shard-a', url: 'https://10.0.0.1:6443', state: 'active', labels: {} },
  { name: 'shard-b', url: 'https://shard-b.internal:6443/', state: 'active', labels: {} },
];
const map = edgeUrlMapper(shards, edgeOrigin('edge.example.com'));

const slice = (...urls: string[]) => ({
  apiVersion: 'apis.kcp.io/v1alpha1',
  kind: 'APIExportEndpointSlice',
  metadata: { name: 'compute' },
  status: { endpoints: urls.map((url) => ({ url })) },
});

test('each shard URL becomes the edge URL that names that shard; an URL of no known shard is dropped', () => {
  assert.equal(map('https://10.0.0.1:6443/services/apiexport/c1/compute'), 'https://edge.example.com/shards/shard-a/services/apiexport/c1/compute');
  assert.equal(map('https://shard-b.internal:6443/services/apiexport/c1/compute/'), 'https://edge.example.com/shards/shard-b/services/apiexport/c1/compute');
  assert.equal(map('https://10.0.0.9:6443/services/apiexport/c1/compute'), undefined);
  assert.equal(map('https://10.0.0.1:6443/clusters/c1'), undefined);
  assert.equal(map('not a url'), undefined);
  // Without a usable Host the edge cannot name itself: nothing is published rather than a shard address.
  assert.equal(edgeUrlMapper(shards, edgeOrigin('bad host/x'))('https://10.0.0.1:6443/services/apiexport/c1/compute'), undefined);
  assert.equal(edgeOrigin('[::1]:6443'), 'https://[::1]:6443');
  assert.equal(edgeOrigin(undefined), undefined);
});

test('objects, lists, Tables and APIExports are rewritten; other fields stay', () => {
  const field = urlListOf('apis.kcp.io', 'apiexportendpointslices')!;
  const one = JSON.parse(
    rewriteBody(
      Buffer.from(JSON.stringify(slice('https://10.0.0.1:6443/services/apiexport/c1/compute', 'https://10.9.9.9/services/apiexport/c1/compute'))),
      field,
      map,
    )!.toString(),
  );
  assert.deepEqual(one.status.endpoints, [{ url: 'https://edge.example.com/shards/shard-a/services/apiexport/c1/compute' }]);
  assert.equal(one.metadata.name, 'compute');

  const list = { kind: 'APIExportEndpointSliceList', items: [slice('https://shard-b.internal:6443/services/apiexport/c1/compute')] };
  const listed = JSON.parse(rewriteBody(Buffer.from(JSON.stringify(list)), field, map)!.toString());
  assert.deepEqual(listed.items[0].status.endpoints, [{ url: 'https://edge.example.com/shards/shard-b/services/apiexport/c1/compute' }]);

  const table = { kind: 'Table', rows: [{ cells: ['compute'], object: slice('https://10.0.0.1:6443/services/apiexport/c1/compute') }] };
  assert.doesNotMatch(rewriteBody(Buffer.from(JSON.stringify(table)), field, map)!.toString(), /10\.0\.0\.1/);

  const exported = { kind: 'APIExport', status: { virtualWorkspaces: [{ url: 'https://10.0.0.1:6443/services/apiexport/c1/compute' }] } };
  const rewritten = rewriteBody(Buffer.from(JSON.stringify(exported)), urlListOf('apis.kcp.io', 'apiexports')!, map)!.toString();
  assert.match(rewritten, /edge\.example\.com\/shards\/shard-a/);
  assert.equal(urlListOf('apis.kcp.io', 'apibindings'), undefined);
  assert.equal(urlListOf('example.io', 'apiexports'), undefined);
  assert.equal(rewriteBody(Buffer.from('{not json'), field, map), undefined);
});

test('a watch is rewritten event by event, whatever the chunking; a non-JSON line is dropped', () => {
  const events = [
    { type: 'ADDED', object: slice('https://10.0.0.1:6443/services/apiexport/c1/compute') },
    { type: 'MODIFIED', object: slice('https://10.0.0.1:6443/services/apiexport/c1/compute', 'https://shard-b.internal:6443/services/apiexport/c1/compute') },
    { type: 'ERROR', object: { kind: 'Status', status: 'Failure', code: 410 } },
  ];
  const wire = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join('') + 'garbage\n' + JSON.stringify(events[0]));
  for (const size of [1, 7, 64, wire.length]) {
    const lines = new WatchLineRewriter('endpoints', map);
    let out = '';
    for (let at = 0; at < wire.length; at += size) out += lines.push(wire.subarray(at, at + size));
    out += lines.end();
    const got = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { status: unknown } });
    assert.deepEqual(
      got.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'ERROR', 'ADDED'],
    );
    assert.doesNotMatch(out, /10\.0\.0\.1|internal/);
    assert.deepEqual(got[1]!.object.status, {
      endpoints: [
        { url: 'https://edge.example.com/shards/shard-a/services/apiexport/c1/compute' },
        { url: 'https://edge.example.com/shards/shard-b/services/apiexport/c1/compute' },
      ],
    });
  }
});

test('only plain JSON can be rewritten', () => {
  assert.equal(isRewritableJSON({ 'content-type': 'application/json' }), true);
  assert.equal(isRewritableJSON({ 'content-type': 'application/json;stream=watch' }), true);
  assert.equal(isRewritableJSON({ 'content-type': 'application/json', 'content-encoding': 'gzip' }), false);
  assert.equal(isRewritableJSON({ 'content-type': 'application/vnd.kubernetes.protobuf' }), false);
});
