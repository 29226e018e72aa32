// The status page in a real headless Chromium (Debian's, which .ci/run installs), against the dev stack:
// it loads from the admin listener, shows both shards and the open watch of a running `kubectl get -w`,
// and redraws by itself when a shard goes down.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDevStack } from '../../src/dev/start.ts';

const run = promisify(execFile);
const chromiumPath = '/usr/bin/chromium';
const kubectlPath = '/usr/bin/kubectl';
const skip = !existsSync(chromiumPath)
  ? `${chromiumPath} is not installed (.ci/run installs Debian's chromium): the status page is tested in a real browser`
  : !existsSync(kubectlPath)
    ? `${kubectlPath} is not installed: the page must show a real kubectl watch`
    : false;

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('the status page shows both shards and a kubectl watch, and updates when a shard goes down', { skip, timeout: 120_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-status-page-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stack = await startDevStack({ dir, port: 0 });
  t.after(() => stack.stop());
  const admin = stack.gateway?.admin?.server;
  assert.ok(admin, 'kcp-edge dev runs the admin listener');
  const token = (await readFile(stack.files.adminTokens, 'utf8')).split(',')[0]!;

  const kubectlArgs = (context: string, ...args: string[]) => ['--kubeconfig', stack.files.kubeconfig, '--cache-dir', join(dir, 'kube-cache'), '--context', context, ...args];
  const watch = spawn(kubectlPath, kubectlArgs('org-acme:proj-frontend', 'get', 'configmaps', '-w'), { stdio: 'ignore' });
  t.after(() => watch.kill());

  const userDataDir = await mkdtemp(join(tmpdir(), 'kcp-edge-chromium-'));
  t.after(() => rm(userDataDir, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    // The dev stack's own CA signs the admin listener's certificate; the token is how an operator gets in.
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const response = await page.goto(`${admin.url}/status`);
  assert.equal(response?.status(), 200);
  assert.equal(await page.title(), 'kcp-edge status');

  // Both shards, up, with their routes; the watch under shard-a and org-acme.
  await page.locator('#shards tr[data-shard="shard-a"][data-health="up"]').waitFor({ timeout: 20_000 });
  await page.locator('#shards tr[data-shard="shard-b"][data-health="up"]').waitFor({ timeout: 20_000 });
  const shardA = await page.locator('#shards tr[data-shard="shard-a"] td').allTextContents();
  assert.equal(shardA[1], 'active');
  assert.ok(Number(shardA[3]) >= 2, `shard-a holds routes: ${shardA.join(' | ')}`);
  const watchRow = page.locator('#watches tr[data-shard="shard-a"][data-org="org-acme"]');
  await watchRow.waitFor({ timeout: 20_000 });
  assert.deepEqual(await watchRow.locator('td').allTextContents(), ['shard-a', 'org-acme', '1']);

  // shard-b goes down; requests to its workspaces fail, and the page (never reloaded) says so.
  await stack.stopShard('shard-b');
  for (let i = 0; i < 3; i++) await run(kubectlPath, kubectlArgs('org-acme:proj-backend', '--request-timeout=5s', 'get', 'configmaps')).catch(() => undefined);
  await page.locator('#shards tr[data-shard="shard-b"][data-health="down"]').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#shards tr[data-shard="shard-a"]').getAttribute('data-health'), 'up');
  assert.equal(await page.locator('#error').textContent(), '');
});
