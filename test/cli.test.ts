import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('an unknown command fails with usage on stderr', async () => {
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'no-such-command']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /unknown command "no-such-command"/);
    assert.match(err.stderr, /usage: kcp-edge <command>/);
    return true;
  });
});

test('without the stand-in (as in the image) dev and sim are not commands, and the product still runs', async (t) => {
  const { cp, mkdtemp, readFile, rm, symlink } = await import('node:fs/promises');
  const { join, resolve } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-image-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // What .dockerignore lets into the image: src/ less the folders it names.
  const left = (await readFile('.dockerignore', 'utf8'))
    .split('\n')
    .filter((l) => /^src\/.+\/$/.test(l))
    .map((l) => `${resolve(l)}/`);
  assert.ok(left.length > 0, '.dockerignore leaves the stand-in out');
  await cp('src', join(dir, 'src'), { recursive: true, filter: (p) => !left.some((l) => `${resolve(p)}/`.startsWith(l)) });
  await cp('package.json', join(dir, 'package.json'));
  await symlink(resolve('node_modules'), join(dir, 'node_modules'));

  const help = await run(process.execPath, [join(dir, 'src/cli.ts'), '--help']);
  assert.match(help.stdout, /^ {2}serve$/m);
  assert.doesNotMatch(help.stdout, /^ {2}(dev|sim)$/m);
  await assert.rejects(run(process.execPath, [join(dir, 'src/cli.ts'), 'dev']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /unknown command "dev"/);
    return true;
  });
  const serveHelp = await run(process.execPath, [join(dir, 'src/cli.ts'), 'serve', '--help']);
  assert.match(serveHelp.stdout, /--config/);
});

test('with the stand-in present (a development checkout) dev and sim are listed', async () => {
  const help = await run(process.execPath, ['src/cli.ts', '--help']);
  assert.match(help.stdout, /^ {2}dev$/m);
  assert.match(help.stdout, /^ {2}sim$/m);
});
