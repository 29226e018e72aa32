// The container image definition, checked statically (no registry or daemon is needed): multi-stage,
// non-root, and running exactly the command the chart's probes and mounts are built around.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

const execForm = (args: string) => JSON.parse(args) as string[];

test('the Dockerfile builds in stages and runs `kcp-edge serve` as a non-root user', async () => {
  const all = instructions(await readFile(join(root, 'Dockerfile'), 'utf8'));
  const stages = all.filter((i) => i.keyword === 'FROM');
  assert.ok(stages.length >= 2, 'multi-stage');
  const runtime = all.slice(all.lastIndexOf(stages.at(-1)!));
  assert.ok(!runtime.some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)), 'no install in the runtime stage');

  const user = runtime.filter((i) => i.keyword === 'USER').at(-1);
  assert.ok(user, 'the runtime stage sets USER');
  const uid = Number(user.args.split(':')[0]);
  assert.ok(Number.isInteger(uid) && uid > 0, `numeric non-root uid (runAsNonRoot can only verify a number), got ${user.args}`);
  const values = parse(await readFile(join(root, 'charts/kcp-edge/values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number } };
  assert.equal(values.podSecurityContext.runAsUser, uid, 'the chart runs as the image user');

  const entrypoint = execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT')!.args);
  const cmd = execForm(runtime.find((i) => i.keyword === 'CMD')!.args);
  assert.deepEqual([...entrypoint, ...cmd], ['node', 'src/cli.ts', 'serve', '--config', '/etc/kcp-edge/gateway.yaml']);

  for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))) {
    const sources = copy.args
      .split(/\s+/)
      .filter((a) => !a.startsWith('--'))
      .slice(0, -1);
    for (const source of sources) await access(join(root, source));
  }
});

test('.dockerignore keeps the build context to what the image needs', async () => {
  const rules = (await readFile(join(root, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(rules[0], '*', 'deny by default');
  const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1));
  assert.deepEqual(allowed.sort(), ['package-lock.json', 'package.json', 'src/']);
  assert.ok(rules.includes('src/sim/'), 'the shard stand-in is not shipped');
});
