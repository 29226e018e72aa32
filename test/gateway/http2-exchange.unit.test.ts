// The HTTP/2 response half the pipeline writes to: the same header semantics as Node's HTTP/1.1
// response (writeHead wins over setHeader, repeated names keep every value) on the core stream API.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Http2Request, Http2Response } from '../../src/gateway/http2-exchange.ts';
import { waitFor } from '../helpers/wait.ts';

async function serve(t: TestContext, onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]) => void) {
  const server = createServer();
  server.on('stream', (stream, headers, _flags, raw) => onStream(stream, headers, raw as unknown as string[]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => {
    client.close();
    server.close();
  });
  return client;
}

test('headers: writeHead wins over setHeader, repeated names keep every value, the body follows', async (t) => {
  let seen: Http2Request | undefined;
  const client = await serve(t, (stream, headers, raw) => {
    seen = new Http2Request(stream, headers, raw);
    const res = new Http2Response(stream);
    res.setHeader('X-Flow', 'uid-1');
    res.setHeader('x-shadowed', 'from setHeader');
    assert.equal(res.headersSent, false);
    res.writeHead(201, ['set-cookie', 'a=1', 'Set-Cookie', 'b=2', 'set-cookie', 'c=3', 'x-shadowed', 'from writeHead']);
    assert.equal(res.headersSent, true);
    res.write(Buffer.from('hello '));
    res.end('world');
    assert.equal(res.writableEnded, true);
  });
  const req = client.request({ ':method': 'GET', ':path': '/clusters/x/api?watch=1', 'audit-id': 'a1' });
  const [headers] = (await once(req, 'response')) as [IncomingHttpHeaders];
  let body = '';
  for await (const chunk of req) body += String(chunk);
  assert.equal(headers[':status'], 201);
  assert.equal(headers['x-flow'], 'uid-1');
  assert.equal(headers['x-shadowed'], 'from writeHead');
  assert.deepEqual(headers['set-cookie'], ['a=1', 'b=2', 'c=3']);
  assert.equal(body, 'hello world');
  assert.equal(seen!.method, 'GET');
  assert.equal(seen!.url, '/clusters/x/api?watch=1');
  assert.equal(seen!.headers['audit-id'], 'a1');
  assert.ok(seen!.rawHeaders.includes('audit-id'));
});

test('after the client reset the stream, writing is a quiet no-op and close is reported', async (t) => {
  let res: Http2Response | undefined;
  let closed = false;
  const client = await serve(t, (stream) => {
    stream.on('error', () => undefined);
    res = new Http2Response(stream);
    res.once('close', () => (closed = true));
  });
  const req = client.request({ ':path': '/' });
  req.on('error', () => undefined);
  await waitFor(() => res !== undefined, { what: 'the stream reached the server' });
  req.close(0x8 /* CANCEL */);
  await waitFor(() => closed, { what: 'close after the reset' });
  assert.doesNotThrow(() => res!.writeHead(200, { 'content-type': 'text/plain' }));
  assert.equal(res!.write('late'), false);
  assert.doesNotThrow(() => res!.end('late'));
});

test('a single-value header repeated by a shard still reaches an HTTP/2 client, joined as HTTP/1.1 shows it', async (t) => {
  const client = await serve(t, (stream) => {
    const res = new Http2Response(stream);
    res.writeHead(200, ['content-type', 'application/json', 'content-type', 'application/yaml', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
    res.end('{}');
  });
  const req = client.request({ ':path': '/' });
  const [headers] = (await once(req, 'response')) as [IncomingHttpHeaders];
  req.resume();
  assert.equal(headers[':status'], 200);
  assert.equal(headers['content-type'], 'application/json, application/yaml');
  assert.deepEqual(headers['set-cookie'], ['a=1', 'b=2']);
});

test('a header block as the forwarder builds it: headers set before it are added unless it names them, repeated single values joined', async (t) => {
  const client = await serve(t, (stream) => {
    const res = new Http2Response(stream);
    res.setHeader('X-Kubernetes-PF-FlowSchema-UID', 'gateway-fs');
    res.setHeader('X-Gateway-Only', 'yes');
    res.writeHeaderBlock([
      ':status',
      '201',
      'content-type',
      'application/json',
      'content-type',
      'application/yaml',
      'x-kubernetes-pf-flowschema-uid',
      'shard-fs',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
    ]);
    res.end('{}');
  });
  const req = client.request({ ':path': '/' });
  const [headers] = (await once(req, 'response')) as [IncomingHttpHeaders];
  req.resume();
  assert.equal(headers[':status'], 201);
  assert.equal(headers['content-type'], 'application/json, application/yaml');
  assert.equal(headers['x-kubernetes-pf-flowschema-uid'], 'shard-fs');
  assert.equal(headers['x-gateway-only'], 'yes');
  assert.deepEqual(headers['set-cookie'], ['a=1', 'b=2']);
});
