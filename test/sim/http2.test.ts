// The stand-in serves HTTP/2 as a Go shard does: chosen by ALPN, 250 streams per connection, watches as
// streams that a stop() (a crash) cuts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { test } from 'node:test';
import { maxConcurrentStreams, type SimShard } from '../../src/sim/index.ts';
import { shardForTest } from './fixture.ts';

async function h2Session(shard: SimShard): Promise<{ session: ClientHttp2Session; streams: number; alpn: string | false }> {
  const creds = await shard.issueClientCertificate('alice', ['system:masters']);
  const session = connect(shard.url, { ca: shard.caPem, cert: creds.certPem, key: creds.keyPem, ALPNProtocols: ['http/1.1', 'h2'] });
  const [settings] = (await once(session, 'remoteSettings')) as [{ maxConcurrentStreams?: number }];
  return { session, streams: settings.maxConcurrentStreams ?? -1, alpn: session.alpnProtocol ?? false };
}

function readStream(stream: ClientHttp2Stream): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

test('a client offering http/1.1 first still gets h2, with the 250 streams per connection of a Go server', async (t) => {
  const { shard } = await shardForTest(t);
  const { session, streams, alpn } = await h2Session(shard);
  t.after(() => session.destroy());
  assert.equal(alpn, 'h2');
  assert.equal(streams, maxConcurrentStreams);
  assert.equal(streams, 250);
  const answer = await readStream(session.request({ ':path': '/clusters/root/api/v1/namespaces/default/configmaps', ':method': 'GET' }));
  assert.equal(answer.status, 200);
  assert.equal((JSON.parse(answer.body) as { kind: string }).kind, 'ConfigMapList');
});

test('a watch over h2 streams events, and a stopped shard resets it', async (t) => {
  const { shard, admin } = await shardForTest(t);
  const { session } = await h2Session(shard);
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const watch = session.request({ ':path': '/clusters/root/api/v1/namespaces/default/configmaps?watch=1', ':method': 'GET' });
  const [headers] = (await once(watch, 'response')) as [Record<string, string>];
  assert.equal(headers[':status'], 200);
  assert.equal(headers['transfer-encoding'], undefined);
  watch.setEncoding('utf8');
  const firstEvent = once(watch, 'data');
  await admin.request('POST', '/clusters/root/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seen' } } });
  const [chunk] = (await firstEvent) as [string];
  assert.match(chunk, /"type":"ADDED".*"name":"seen"/);

  const closed = new Promise<number>((resolve) => {
    watch.on('error', () => undefined);
    watch.on('close', () => resolve(watch.rstCode ?? -1));
    watch.resume();
  });
  await shard.stop();
  // The connection is cut under the stream (Node's client reports CANCEL), never a clean end of stream.
  assert.notEqual(await closed, constants.NGHTTP2_NO_ERROR);
});
