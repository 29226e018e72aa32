// The reflector against a scripted HTTP server: paged list, resume from the last resourceVersion,
// bookmarks, re-list on 410 reporting what vanished, backoff while the server is down.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { RestClient, type KubeObject } from '../../src/kube/rest-client.ts';
import { Reflector } from '../../src/kube/reflector.ts';
import { waitFor } from '../helpers/wait.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, resourceVersion: rv } });

interface Script {
  list(query: URLSearchParams): { status?: number; body: unknown };
  watch(query: URLSearchParams, res: ServerResponse): void;
}

async function serve(script: Script) {
  const requests: URLSearchParams[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    requests.push(query);
    if (query.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders(); // as kube-apiserver does: a watch is accepted before its first event
      open.add(res);
      res.on('close', () => open.delete(res));
      script.watch(query, res);
      return;
    }
    const { status = 200, body } = script.list(query);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    open,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

test('lists in pages, then watches from the list resourceVersion and follows bookmarks', async (t) => {
  const watches: URLSearchParams[] = [];
  let watchRes: ServerResponse | undefined;
  const srv = await serve({
    list: (q) =>
      q.get('continue') === 'p2'
        ? { body: { metadata: { resourceVersion: '10' }, items: [obj('b', '5')] } }
        : { body: { metadata: { resourceVersion: '10', continue: 'p2' }, items: [obj('a', '3')] } },
    watch: (q, res) => {
      watches.push(q);
      watchRes = res;
    },
  });
  const client = new RestClient({ server: srv.url });
  const changes: string[] = [];
  let synced = false;
  const reflector = new Reflector({
    client,
    path: '/things',
    keyOf: (o) => o.metadata.name,
    onChange: (key, o) => changes.push(`${key}:${o === undefined ? 'gone' : o.metadata.resourceVersion}`),
    onSynced: () => (synced = true),
    pageSize: 1,
  });
  t.after(async () => {
    await reflector.stop();
    await client.close();
    await srv.close();
  });
  reflector.start();
  await waitFor(() => watchRes, { what: 'watch' });
  assert.ok(synced);
  assert.deepEqual(changes.sort(), ['a:3', 'b:5']);
  assert.equal(watches[0]?.get('resourceVersion'), '10');
  assert.equal(watches[0]?.get('allowWatchBookmarks'), 'true');
  const send = (e: unknown) => watchRes?.write(JSON.stringify(e) + '\n');
  send({ type: 'MODIFIED', object: obj('a', '11') });
  send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
  send({ type: 'DELETED', object: obj('b', '16') });
  await waitFor(() => changes.includes('b:gone'), { what: 'delete' });
  assert.ok(changes.includes('a:11'));
  assert.equal(reflector.store.size, 1);
  // The server ends the watch (its timeout): resumed from the last version seen, no re-list.
  watchRes?.end();
  await waitFor(() => watches.length === 2, { what: 'second watch' });
  assert.equal(watches[1]?.get('resourceVersion'), '16');
  assert.equal(srv.requests.filter((q) => q.get('watch') !== '1').length, 2, 'only the two pages of the first list');
});

test('410 Gone re-lists and reports what vanished during the gap; a down server is retried', async (t) => {
  let listCount = 0;
  let failLists = 0;
  const srv = await serve({
    list: () => {
      listCount++;
      if (failLists > 0) {
        failLists--;
        return { status: 503, body: { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'down' } };
      }
      return listCount === 1
        ? { body: { metadata: { resourceVersion: '5' }, items: [obj('a', '1'), obj('b', '2')] } }
        : { body: { metadata: { resourceVersion: '50' }, items: [obj('a', '40'), obj('c', '41')] } };
    },
    watch: (q, res) => {
      if (q.get('resourceVersion') === '5') {
        failLists = 2; // the server is "down" for the next two lists
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
      }
    },
  });
  const client = new RestClient({ server: srv.url });
  const changes: string[] = [];
  const errors: unknown[] = [];
  const reflector = new Reflector({
    client,
    path: '/things',
    keyOf: (o) => o.metadata.name,
    onChange: (key, o) => changes.push(`${key}:${o === undefined ? 'gone' : o.metadata.resourceVersion}`),
    onError: (err) => errors.push(err),
    backoff: { baseMs: 5, capMs: 20, jitter: 0 },
  });
  t.after(async () => {
    await reflector.stop();
    await client.close();
    await srv.close();
  });
  reflector.start();
  await waitFor(() => changes.includes('c:41'), { what: 're-list after 410' });
  assert.ok(changes.includes('b:gone'), 'deleted during the gap');
  assert.ok(changes.includes('a:40'));
  assert.equal(errors.length, 2, 'two failed lists, retried with backoff');
  assert.deepEqual([...reflector.store.keys()].sort(), ['a', 'c']);
});

test('transform shapes what is stored and reported, and drops what it returns nothing for', async (t) => {
  let watchRes: ServerResponse | undefined;
  const withData = (name: string, rv: string, namespace: string): KubeObject => ({ metadata: { name, namespace, resourceVersion: rv }, data: { key: 'c2VjcmV0' } });
  const srv = await serve({
    list: () => ({ body: { metadata: { resourceVersion: '10' }, items: [withData('a', '3', 'mine'), withData('b', '4', 'other')] } }),
    watch: (_q, res) => (watchRes = res),
  });
  const client = new RestClient({ server: srv.url });
  const changes: string[] = [];
  const reflector = new Reflector({
    client,
    path: '/secrets',
    keyOf: (o) => `${o.metadata.namespace}/${o.metadata.name}`,
    transform: (o) => (o.metadata.namespace === 'mine' && o.metadata.labels?.drop === undefined ? { metadata: o.metadata } : undefined),
    onChange: (key, o, previous) => changes.push(`${key}:${o === undefined ? `gone(${previous?.metadata.resourceVersion})` : o.metadata.resourceVersion}`),
  });
  t.after(async () => {
    await reflector.stop();
    await client.close();
    await srv.close();
  });
  reflector.start();
  await waitFor(() => watchRes, { what: 'watch' });
  assert.deepEqual(changes, ['mine/a:3']);
  assert.deepEqual(reflector.store.get('mine/a'), { metadata: { name: 'a', namespace: 'mine', resourceVersion: '3' } }, 'the payload is not kept');
  const send = (e: unknown) => watchRes?.write(JSON.stringify(e) + '\n');
  send({ type: 'MODIFIED', object: withData('b', '11', 'other') });
  send({ type: 'DELETED', object: withData('b', '12', 'other') });
  send({ type: 'ADDED', object: withData('c', '13', 'mine') });
  send({ type: 'DELETED', object: withData('a', '14', 'mine') });
  const dropped = withData('c', '15', 'mine');
  dropped.metadata.labels = { drop: 'yes' };
  send({ type: 'MODIFIED', object: dropped });
  await waitFor(() => changes.length === 4, { what: 'three changes' });
  assert.deepEqual(changes, ['mine/a:3', 'mine/c:13', 'mine/a:gone(3)', 'mine/c:gone(13)']);
  assert.equal(reflector.store.size, 0);
});

test('onRecovered tells once when the server answers again after failing: by a list, or by a quiet watch being accepted', async (t) => {
  let failLists = 2;
  const watches: ServerResponse[] = [];
  const srv = await serve({
    list: () =>
      failLists-- > 0
        ? { status: 503, body: { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'down' } }
        : { body: { metadata: { resourceVersion: '5' }, items: [obj('a', '1')] } },
    watch: (_q, res) => watches.push(res),
  });
  const client = new RestClient({ server: srv.url });
  const errors: unknown[] = [];
  let recovered = 0;
  const reflector = new Reflector({
    client,
    path: '/things',
    keyOf: (o) => o.metadata.name,
    onChange: () => {},
    onError: (err) => errors.push(err),
    onRecovered: () => recovered++,
    backoff: { baseMs: 5, capMs: 20, jitter: 0 },
  });
  t.after(async () => {
    await reflector.stop();
    await client.close();
    await srv.close();
  });
  reflector.start();
  await waitFor(() => watches.length === 1, { what: 'watch' });
  assert.equal(errors.length, 2);
  assert.equal(recovered, 1, 'the list that went through');
  // The server ends the watch as it does every few minutes: nothing was wrong.
  watches[0]!.end();
  await waitFor(() => watches.length === 2, { what: 'second watch' });
  assert.equal(recovered, 1);
  // The connection is cut; the next watch is accepted and stays quiet: the server is back all the same.
  watches[1]!.destroy();
  await waitFor(() => recovered === 2 || undefined, { what: 'recovery seen on a quiet watch' });
  assert.equal(errors.length, 3);
  assert.equal(watches.length, 3);
  assert.equal(srv.requests.filter((q) => q.get('watch') !== '1').length, 3, 'no re-list: the watch resumed');
});
