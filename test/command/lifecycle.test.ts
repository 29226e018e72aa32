// The lifecycle every long-running command shares, run as a process: signals, the drain bound, the
// second signal, and the exit status each ends with.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';

const fixture = new URL('./fixtures/drain-child.ts', import.meta.url).pathname;

async function start(drain: string, boundMs: number): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [fixture, drain, String(boundMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  await waitFor(() => output.includes('running') || child.exitCode !== null, { what: 'the child to run' });
  return { child, output: () => output, exited };
}

function messages(output: string): string[] {
  return output.split('\n').flatMap((line) => (line.startsWith('{') ? [(JSON.parse(line) as { msg: string }).msg] : []));
}

test('SIGTERM drains and exits 0 once the drain is done', async () => {
  const { child, output, exited } = await start('50', 5_000);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output());
  assert.deepEqual(messages(output()), ['draining', 'drained; bye']);
});

test('SIGINT is the same as SIGTERM', async () => {
  const { child, output, exited } = await start('0', 5_000);
  child.kill('SIGINT');
  assert.equal(await exited, 0, output());
});

test('a drain that overruns its bound exits 1', async () => {
  const { child, output, exited } = await start('hang', 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 1, output());
  assert.ok(messages(output()).includes('drain overran its bound; exiting'), output());
});

test('a second signal exits 130 without waiting for the drain', async () => {
  const { child, output, exited } = await start('hang', 60_000);
  child.kill('SIGTERM');
  await waitFor(() => messages(output()).includes('draining'), { what: 'the drain to start' });
  child.kill('SIGINT');
  assert.equal(await exited, 130, output());
  assert.ok(messages(output()).includes('second signal: exiting without waiting for the drain'));
});

test('a failed drain exits 1', async () => {
  const { child, output, exited } = await start('fail', 5_000);
  child.kill('SIGTERM');
  assert.equal(await exited, 1, output());
  assert.ok(messages(output()).includes('drain failed'));
});
