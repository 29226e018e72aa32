// What an event records of the bodies the gateway kept: JSON as sent, managed fields dropped when the
// policy says so, and for every body it leaves out an annotation saying why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordedObjects } from '../../src/audit/recorded-objects.ts';
import { BodyCapture } from '../../src/gateway/body-capture.ts';

function captured(body: string | Buffer, contentType: string, { limit = 1024, encoding = '', chunk = 7 } = {}): BodyCapture {
  const capture = new BodyCapture(limit);
  capture.contentType = contentType;
  capture.contentEncoding = encoding;
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += chunk) capture.add(bytes.subarray(i, i + chunk));
  return capture;
}

const managed = JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'a', managedFields: [{ manager: 'kubectl' }] }, data: { k: 'v' } });

test('bodies become requestObject and responseObject, or an annotation saying why not', () => {
  const cases: [string, BodyCapture | undefined, BodyCapture | undefined, boolean, Record<string, unknown>][] = [
    ['no capture, no body', undefined, captured('', 'application/json'), false, { annotations: {} }],
    [
      'JSON both ways, in chunks',
      captured('{"kind":"Namespace","metadata":{"name":"n"}}', 'application/json'),
      captured('{"kind":"Namespace","metadata":{"name":"n","uid":"u"}}', 'application/json;charset=utf-8'),
      false,
      { requestObject: { kind: 'Namespace', metadata: { name: 'n' } }, responseObject: { kind: 'Namespace', metadata: { name: 'n', uid: 'u' } }, annotations: {} },
    ],
    ['a merge patch is JSON too', captured('{"data":{"k":null}}', 'application/merge-patch+json'), undefined, false, { requestObject: { data: { k: null } }, annotations: {} }],
    [
      'a JSON patch is an array',
      captured('[{"op":"remove","path":"/data/k"}]', 'application/json-patch+json'),
      undefined,
      false,
      { requestObject: [{ op: 'remove', path: '/data/k' }], annotations: {} },
    ],
    [
      'an apply patch in YAML',
      captured('kind: ConfigMap\nmetadata:\n  name: a\n', 'application/apply-patch+yaml'),
      undefined,
      false,
      { requestObject: { kind: 'ConfigMap', metadata: { name: 'a' } }, annotations: {} },
    ],
    [
      'managed fields dropped from an object and from list items',
      captured(managed, 'application/json'),
      captured(JSON.stringify({ kind: 'ConfigMapList', items: [JSON.parse(managed)] }), 'application/json'),
      true,
      {
        requestObject: { kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } },
        responseObject: { kind: 'ConfigMapList', items: [{ kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }] },
        annotations: {},
      },
    ],
    ['managed fields kept unless asked', captured(managed, 'application/json'), undefined, false, { requestObject: JSON.parse(managed), annotations: {} }],
    [
      'over the limit',
      captured(`{"data":"${'x'.repeat(2000)}"}`, 'application/json'),
      captured('{"kind":"Status"}', 'application/json'),
      false,
      {
        responseObject: { kind: 'Status' },
        annotations: { 'kcp-edge.io/request-object-omitted': 'the body of 2011 bytes is larger than the audit limit of 1024 bytes', 'audit.k8s.io/truncated': 'true' },
      },
    ],
    [
      'protobuf and gzip',
      captured(Buffer.from([0x6b, 0x38, 0x73, 0x00, 1, 2]), 'application/vnd.kubernetes.protobuf'),
      captured(Buffer.from([0x1f, 0x8b, 8]), 'application/json', { encoding: 'gzip' }),
      false,
      {
        annotations: {
          'kcp-edge.io/request-object-omitted': "application/vnd.kubernetes.protobuf is not decoded: that needs the types' scheme, which the gateway does not have",
          'kcp-edge.io/response-object-omitted': 'the body is gzip-encoded and not decoded for the audit log',
        },
      },
    ],
    [
      'not JSON',
      captured('{"broken":', 'application/json'),
      captured('line 1\nline 2\n', 'text/plain'),
      false,
      { annotations: { 'kcp-edge.io/request-object-omitted': 'the body is not valid JSON', 'kcp-edge.io/response-object-omitted': 'text/plain is not JSON' } },
    ],
  ];
  for (const [what, request, response, omitManagedFields, expected] of cases) {
    assert.deepEqual({ ...recordedObjects(request, response, omitManagedFields) }, expected, what);
  }
});

test('a capture keeps nothing once the body passes its limit, but keeps counting', () => {
  const capture = new BodyCapture(10);
  capture.add(Buffer.from('12345'));
  assert.equal(capture.bytes()?.toString(), '12345');
  capture.add(Buffer.from('678901'));
  capture.add(Buffer.from('2'));
  assert.equal(capture.bytes(), undefined);
  assert.equal(capture.size, 12);
});
