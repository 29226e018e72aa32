// A process whose memory grew in a burst hands it back once it is quiet, and not while it is busy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';

type Line = Record<string, number | string>;

test('memory grown in a burst is released once the process is quiet, never while it is busy', async (t) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./heap-release-burst.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  t.after(() => child.kill('SIGKILL'));
  const lines: Line[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts.map((p) => JSON.parse(p) as Line));
  });
  const seen = (event: string) => lines.find((l) => l['event'] === event);
  const burst = await waitFor(() => seen('burst'), { timeoutMs: 120_000, what: 'the burst to end' });
  const busy = await waitFor(() => seen('busy-done'), { timeoutMs: 30_000, what: 'the busy second to end' });
  assert.equal(busy['releases'], 0, 'nothing is collected while the loop is busy');
  const released = await waitFor(() => seen('released'), { timeoutMs: 30_000, what: 'the memory to be released' });
  // Released only once quiet for the whole quietForMs (1.5 s) that the burst process asked for.
  assert.ok(Number(released['at']) - Number(busy['at']) >= 1_400, `released ${Number(released['at']) - Number(busy['at'])} ms after the busy second`);
  const mib = (n: number | string | undefined) => (Number(n) / 2 ** 20).toFixed(0);
  t.diagnostic(`RSS ${mib(burst['start'])} → ${mib(burst['peak'])} MiB in the burst, ${mib(released['rssAfter'])} MiB after the release (${released['pauseMs']} ms pause)`);
  // The burst grew RSS by 96 MiB or more; what is handed back is most of it, not a few pages.
  assert.ok(Number(released['rssAfter']) < Number(burst['peak']) - 48 * 2 ** 20, `RSS ${mib(released['rssBefore'])} → ${mib(released['rssAfter'])} MiB`);
  assert.equal(lines.filter((l) => l['event'] === 'released').length, 1, 'released once');
  await waitFor(() => stderr.includes('a warning after the release'), { timeoutMs: 10_000, what: 'the later warning on stderr' });
  assert.doesNotMatch(stderr, /ExperimentalWarning/, 'the release prints no notice of its own');
});
