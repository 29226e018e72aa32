// node-floor, the bench's bare Node forwarder: HTTP/2 and HTTP/1.1 to clients, HTTP/1.1 to the upstream, and
// no upstream connection left behind by a client that goes away mid-request.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { http2Get, httpsGet } from '../../loadtest/lib/net.ts';
import { kcpEdge } from '../../loadtest/targets/kcp-edge.ts';
import { nodeFloor } from '../../loadtest/targets/node-floor.ts';
import { LIST_BODY } from '../../loadtest/upstream/body.ts';
import { benchUpstreamForTest } from './fixture.ts';
import { waitFor } from '../helpers/wait.ts';

test('node-floor relays over HTTP/2 and HTTP/1.1, always HTTP/1.1 upstream, and drops the upstream request of a client that left', async (t) => {
  const { dir, processes, pki, upstream } = await benchUpstreamForTest(t);
  const ca = await readFile(pki.caFile, 'utf8');
  // node-floor is sent kcp-edge's realm JWT, from the stand-in Keycloak the bench shares.
  t.after(() => kcpEdge.shutdown());
  const floor = await nodeFloor.start({ dir, processes, upstreamPort: upstream.port, connections: 8, ...pki }, pki.caFile);
  assert.match(floor.headers.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

  const h2 = await http2Get(floor.port, floor.path, { ca, headers: floor.headers });
  assert.equal(h2.alpnProtocol, 'h2');
  assert.equal(h2.status, 200);
  assert.ok(h2.body.equals(LIST_BODY));
  const h1 = await httpsGet(floor.port, floor.path, { ca, headers: floor.headers });
  assert.equal(h1.status, 200);
  assert.ok(h1.body.equals(LIST_BODY));
  const afterTwo = await upstream.stats();
  assert.equal(afterTwo.h2Requests, 0);
  assert.equal(afterTwo.requests, 2);
  assert.equal(afterTwo.withAuthorization, 0, 'the credential stops at the floor, as at a front proxy');

  // Ten HTTP/2 clients give up on slow requests once they reached the upstream, before it answers. Waiting
  // for a drain that never comes would hold each upstream connection paused for good.
  const sessions = Array.from({ length: 10 }, () => {
    const session = connect(`https://127.0.0.1:${floor.port}`, { ca, servername: 'localhost' });
    session.on('error', () => {});
    session.request({ ':path': `${floor.path}?slow=1000` }).on('error', () => {});
    return session;
  });
  await waitFor(async () => (await upstream.stats()).requests >= 12, { what: 'the slow requests to reach the upstream' });
  for (const session of sessions) session.destroy();
  const open = async () => {
    const { stdout } = await promisify(execFile)('ss', ['-Htn', 'state', 'established', 'dst', `127.0.0.1:${upstream.port}`]);
    return stdout.split('\n').filter((l) => l.trim() !== '').length;
  };
  // The two answered requests above may each have left one idle keep-alive connection.
  await waitFor(async () => (await open()) <= 2, { timeoutMs: 5_000, what: 'node-floor to close the upstream connections of the cut-off requests' });
});
