import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLongRunning, requestAttributes } from '../../src/kube/request-attributes.ts';

const cases: Array<[string, string, Partial<ReturnType<typeof requestAttributes>>]> = [
  ['GET', '/api/v1/namespaces', { verb: 'list', resource: 'namespaces', namespace: '', name: '' }],
  ['GET', '/api/v1/namespaces/foo', { verb: 'get', resource: 'namespaces', namespace: 'foo', name: 'foo' }],
  ['PUT', '/api/v1/namespaces/foo/finalize', { verb: 'update', resource: 'namespaces', name: 'foo', subresource: 'finalize' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=1', { verb: 'watch', resource: 'configmaps', namespace: 'ns' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=false', { verb: 'list', resource: 'configmaps' }],
  // kube-apiserver: only "0" and "false" (any case) are false, so these are watches too.
  ['GET', '/api/v1/namespaces/ns/configmaps?watch', { verb: 'watch', resource: 'configmaps' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=', { verb: 'watch', resource: 'configmaps' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=True', { verb: 'watch', resource: 'configmaps' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=FALSE', { verb: 'list', resource: 'configmaps' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?watch=0', { verb: 'list', resource: 'configmaps' }],
  ['GET', '/api/v1/namespaces/ns/configmaps?limit=500', { verb: 'list', hasLimit: true }],
  ['GET', '/api/v1/watch/namespaces/ns/configmaps', { verb: 'watch', resource: 'configmaps', namespace: 'ns' }],
  ['POST', '/apis/apps/v1/namespaces/ns/deployments', { verb: 'create', apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments' }],
  [
    'PATCH',
    '/apis/compute.cloud.example.com/v1alpha1/namespaces/ns/virtualmachines/vm1/status',
    { verb: 'patch', resource: 'virtualmachines', name: 'vm1', subresource: 'status' },
  ],
  ['DELETE', '/api/v1/namespaces/ns/configmaps', { verb: 'deletecollection' }],
  ['DELETE', '/api/v1/namespaces/ns/configmaps/a', { verb: 'delete', name: 'a' }],
  ['GET', '/apis/tenancy.kcp.io/v1alpha1/workspaces', { verb: 'list', apiGroup: 'tenancy.kcp.io', resource: 'workspaces' }],
  ['GET', '/api', { isResourceRequest: false, verb: 'get' }],
  ['GET', '/apis/apps/v1', { isResourceRequest: false }],
  ['GET', '/version', { isResourceRequest: false, verb: 'get' }],
];

for (const [method, url, expected] of cases) {
  test(`${method} ${url}`, () => {
    const [path, query = ''] = url.split('?');
    const attrs = requestAttributes(method, path!, new URLSearchParams(query));
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(attrs[key as keyof typeof attrs], value, key);
    }
  });
}

test('watches, followed logs and exec are long-running; plain reads are not', () => {
  const longRunning = (method: string, url: string) => {
    const [path, query = ''] = url.split('?');
    const q = new URLSearchParams(query);
    return isLongRunning(requestAttributes(method, path!, q), q);
  };
  assert.equal(longRunning('GET', '/api/v1/configmaps?watch=true'), true);
  assert.equal(longRunning('GET', '/api/v1/namespaces/ns/pods/p/log?follow=true'), true);
  assert.equal(longRunning('GET', '/api/v1/namespaces/ns/pods/p/log'), false);
  assert.equal(longRunning('GET', '/api/v1/namespaces/ns/pods/p/log?follow'), true);
  assert.equal(longRunning('GET', '/api/v1/namespaces/ns/pods/p/log?follow=Yes'), true);
  assert.equal(longRunning('GET', '/api/v1/namespaces/ns/pods/p/log?follow=False'), false);
  assert.equal(longRunning('GET', '/api/v1/configmaps?watch'), true);
  assert.equal(longRunning('POST', '/api/v1/namespaces/ns/pods/p/exec?command=ls'), true);
  assert.equal(longRunning('GET', '/api/v1/configmaps'), false);
});
