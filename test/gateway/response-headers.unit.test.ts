// What a client receives of a shard's response headers: everything but what describes the
// gateway↔shard connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientResponseHeaderBlock, clientResponseHeaders } from '../../src/gateway/upstream-headers.ts';

test('hop-by-hop headers and those the shard names in Connection are dropped; the rest pass in order', () => {
  const out = clientResponseHeaders({
    'content-type': 'application/json',
    connection: 'keep-alive, X-Shard-Conn-Id',
    'keep-alive': 'timeout=5',
    'x-shard-conn-id': '42',
    'transfer-encoding': 'chunked',
    'set-cookie': ['a=1', 'b=2'],
    'audit-id': 'abc',
    trailer: 'x-checksum',
    'proxy-connection': 'keep-alive',
    upgrade: 'h2c',
    te: 'trailers',
    'x-absent': undefined,
  });
  assert.deepEqual(out, ['content-type', 'application/json', 'set-cookie', ['a=1', 'b=2'], 'audit-id', 'abc']);
});

test('a response without a Connection header loses nothing', () => {
  assert.deepEqual(clientResponseHeaders({ 'content-length': '2', date: 'x' }), ['content-length', '2', 'date', 'x']);
});

test("the gateway's added headers follow the shard's, and a shard's header of the same name wins", () => {
  const added = ['x-kubernetes-pf-flowschema-uid', 'gw-fs', 'x-kubernetes-pf-prioritylevel-uid', 'gw-pl'];
  assert.deepEqual(clientResponseHeaders({ 'content-length': '2', 'x-kubernetes-pf-flowschema-uid': 'shard-fs' }, added), [
    'content-length',
    '2',
    'x-kubernetes-pf-flowschema-uid',
    'shard-fs',
    'x-kubernetes-pf-prioritylevel-uid',
    'gw-pl',
  ]);
});

test('the HTTP/2 header block carries the same headers as the flat list, :status first and one pair per repeated value', () => {
  const shard = {
    'content-type': 'application/json',
    connection: 'keep-alive, X-Shard-Conn-Id',
    'keep-alive': 'timeout=5',
    'x-shard-conn-id': '42',
    'transfer-encoding': 'chunked',
    'set-cookie': ['a=1', 'b=2'],
    'x-kubernetes-pf-flowschema-uid': 'shard-fs',
    'x-absent': undefined,
  };
  const added = ['x-kubernetes-pf-flowschema-uid', 'gw-fs', 'x-kubernetes-pf-prioritylevel-uid', 'gw-pl'];
  const block = clientResponseHeaderBlock(200, shard, added);
  assert.deepEqual(block, [
    ':status',
    '200',
    'content-type',
    'application/json',
    'set-cookie',
    'a=1',
    'set-cookie',
    'b=2',
    'x-kubernetes-pf-flowschema-uid',
    'shard-fs',
    'x-kubernetes-pf-prioritylevel-uid',
    'gw-pl',
  ]);
  const flat = clientResponseHeaders(shard, added);
  const fromFlat: string[] = [':status', '200'];
  for (let i = 0; i < flat.length; i += 2) for (const value of [flat[i + 1]!].flat()) fromFlat.push(flat[i] as string, value);
  assert.deepEqual(block, fromFlat);
});
