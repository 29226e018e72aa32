// go-peer, the bench's Go standard-library front proxy: it does a front proxy's per-request work (route by
// workspace path, identity from the token, X-Remote-* set by it alone) over HTTP/2 and HTTP/1.1, and stays
// on HTTP/1.1 to the upstream. Skipped where no Go toolchain is installed, as the bench skips the target.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { http2Get, httpsGet } from '../../loadtest/lib/net.ts';
import { goPeer } from '../../loadtest/targets/go-peer.ts';
import { LIST_BODY } from '../../loadtest/upstream/body.ts';
import { benchUpstreamForTest } from './fixture.ts';

test('go-peer routes by workspace, authenticates the token, sets the identity, and refuses the rest', { skip: !(await goPeer.available()) && 'go is not installed' }, async (t) => {
  const { dir, processes, pki, upstream } = await benchUpstreamForTest(t);
  const ca = await readFile(pki.caFile, 'utf8');
  const peer = await goPeer.start({ dir, processes, upstreamPort: upstream.port, connections: 8, ...pki }, pki.caFile);

  const h2 = await http2Get(peer.port, peer.path, { ca, headers: peer.headers });
  assert.equal(h2.alpnProtocol, 'h2');
  assert.equal(h2.status, 200);
  assert.ok(h2.body.equals(LIST_BODY));
  // The upstream answers 403 to X-Remote-User from a client without the front-proxy certificate: 200
  // says the peer presented it (and a client's own X-Remote-User did not get it refused).
  const h1 = await httpsGet(peer.port, peer.path, { ca, headers: { ...peer.headers, 'x-remote-user': 'system:admin' } });
  assert.equal(h1.status, 200);
  assert.ok(h1.body.equals(LIST_BODY));
  assert.equal((await upstream.stats()).h2Requests, 0);

  const noToken = await httpsGet(peer.port, peer.path, { ca });
  assert.equal(noToken.status, 401);
  assert.equal((JSON.parse(noToken.body.toString()) as { kind: string }).kind, 'Status');
  const unknownWorkspace = await httpsGet(peer.port, '/clusters/root:org-bench:nowhere/api/v1/namespaces/default/configmaps', { ca, headers: peer.headers });
  assert.equal(unknownWorkspace.status, 404);
});
