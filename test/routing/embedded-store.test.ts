import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/index.ts';
import { EmbeddedRoutingTable } from '../../src/routing/embedded-store.ts';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { waitFor, withTempDir } from '../helpers/wait.ts';

const table = `
shards:
  - name: shard-a
    url: https://127.0.0.1:6443/
    caFile: shard-a-ca.crt
    labels: { region: eu }
  - name: shard-b
    url: https://127.0.0.1:6444
    state: cordoned
routes:
  - { path: root:org-acme, shard: shard-a, cluster: acme }
  - { path: org-acme:proj-frontend, shard: shard-a, cluster: 2x7frontend }
  - { path: root:org-acme:proj-backend, shard: shard-b, cluster: 9k2backend, phase: Moving }
`;

async function openTable(dir: string, text = table, options: Parameters<typeof EmbeddedRoutingTable.open>[1] = {}) {
  const file = join(dir, 'routing.yaml');
  await writeFile(file, text);
  return { file, store: await EmbeddedRoutingTable.open(file, { debounceMs: 20, ...options }) };
}

test('embedded store: lookups by path with or without root:, and by logical cluster', async (t) => {
  await withTempDir(async (dir) => {
    const ca = await createCertificateAuthority('shard-a-ca');
    await writeFile(join(dir, 'shard-a-ca.crt'), ca.certPem);
    const { store } = await openTable(dir);
    t.after(() => store.close());

    const cases: [string, string | undefined][] = [
      ['root:org-acme:proj-frontend', '2x7frontend'],
      ['org-acme:proj-frontend', '2x7frontend'],
      ['2x7frontend', '2x7frontend'],
      ['root:org-acme', 'acme'],
      ['org-acme', 'acme'], // a bare name that is no cluster is a top-level workspace
      ['acme', 'acme'],
      ['root:org-acme:proj-backend', '9k2backend'],
      ['root:org-acme:proj-unknown', undefined],
      ['org-globex', undefined],
      ['root', undefined],
      ['', undefined],
    ];
    for (const [input, cluster] of cases) {
      assert.equal((await store.resolve(input))?.route.cluster, cluster, input);
    }
    const frontend = await store.resolve('org-acme:proj-frontend');
    assert.deepEqual(frontend?.route, { path: 'root:org-acme:proj-frontend', shard: 'shard-a', cluster: '2x7frontend', phase: 'Ready', rev: 1 });
    assert.equal(frontend?.shard.url, 'https://127.0.0.1:6443', 'trailing slash trimmed');
    assert.equal(frontend?.shard.ca, ca.certPem);
    assert.deepEqual(frontend?.shard.labels, { region: 'eu' });
    assert.equal((await store.resolve('9k2backend'))?.route.phase, 'Moving');
    assert.equal((await store.getShard('shard-b'))?.state, 'cordoned');
    assert.equal(await store.getShard('shard-c'), undefined);
    assert.deepEqual(
      (await store.listShards()).map((s) => s.name),
      ['shard-a', 'shard-b'],
    );
    assert.ok(store.ready());
    assert.ok(Object.isFrozen(frontend?.route) && Object.isFrozen(frontend?.shard));
  });
});

test('embedded store: reload swaps the table, a broken edit keeps the previous one', async (t) => {
  await withTempDir(async (dir) => {
    const rejected: Error[] = [];
    const { file, store } = await openTable(dir, table.replace('    caFile: shard-a-ca.crt\n', ''), { onRejected: (e) => void rejected.push(e) });
    t.after(() => store.close());
    assert.equal((await store.resolve('org-acme:proj-frontend'))?.route.shard, 'shard-a');

    // Move proj-frontend to shard-b and add a workspace; written via rename as editors and operators do.
    const moved = table
      .replace('    caFile: shard-a-ca.crt\n', '')
      .replace('{ path: org-acme:proj-frontend, shard: shard-a', '{ path: org-acme:proj-frontend, shard: shard-b')
      .concat('  - { path: root:org-globex:proj-apps, shard: shard-a, cluster: globexapps }\n');
    await writeFile(`${file}.new`, moved);
    await rename(`${file}.new`, file);
    await waitFor(() => store.revision === 2, { what: 'the reload' });
    assert.equal((await store.resolve('org-acme:proj-frontend'))?.route.shard, 'shard-b');
    assert.equal((await store.resolve('org-acme:proj-frontend'))?.route.rev, 2);
    assert.equal((await store.resolve('globexapps'))?.route.path, 'root:org-globex:proj-apps');

    // Broken: a route to a shard that does not exist and a duplicate path. Nothing of it applies.
    await writeFile(file, moved.concat('  - { path: root:org-globex:proj-apps, shard: shard-z, cluster: other }\n'));
    const err = await waitFor(() => rejected[0], { what: 'the broken edit to be rejected' });
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(
      err.issues.map((i) => `${i.field}: ${i.message}`),
      ['routes[4].path: workspace root:org-globex:proj-apps is already routed by routes[3]', 'routes[4].shard: names shard "shard-z", which is not in shards'],
    );
    assert.equal(store.revision, 2);
    assert.equal((await store.resolve('root:org-globex:proj-apps'))?.route.cluster, 'globexapps');
  });
});

test('embedded store: an invalid file at start lists every problem', async () => {
  await withTempDir(async (dir) => {
    const bad = [
      'shards:',
      '  - { name: Shard_A, url: ftp://x }',
      '  - { name: b, url: "https://b", caFile: missing.crt, state: gone }',
      'routes:',
      '  - { path: "root::x", shard: b, cluster: c1 }',
      '  - { path: root:y, shard: b }',
      '  - { path: root:z, shard: b, cluster: c1 }',
    ].join('\n');
    await assert.rejects(openTable(dir, bad), (err: ConfigError) => {
      assert.deepEqual(
        err.issues.map((i) => `${i.line}:${i.field}`),
        ['2:shards[0].name', '2:shards[0].url', '3:shards[1].state', '5:routes[0].path', '6:routes[1].cluster'],
      );
      return true;
    });
    // Schema-clean but wrong in ways only the whole file shows.
    const inconsistent = [
      'shards:',
      '  - { name: a, url: "https://a", caFile: missing.crt }',
      '  - { name: a, url: "https://a2" }',
      'routes:',
      '  - { path: root:x, shard: a, cluster: c1 }',
      '  - { path: root:y, shard: a, cluster: c1 }',
    ].join('\n');
    await assert.rejects(openTable(dir, inconsistent), (err: ConfigError) => {
      assert.deepEqual(
        err.issues.map((i) => `${i.line}:${i.field}: ${i.message}`),
        [
          `2:shards[0].caFile: cannot read ${join(dir, 'missing.crt')}: no such file`,
          '3:shards[1].name: shard "a" is listed twice',
          '6:routes[1].cluster: logical cluster c1 is already used by routes[0]',
        ],
      );
      return true;
    });
  });
});
