#!/usr/bin/env node
// The one entry point. Each subcommand lives beside the concern it drives and is loaded only when
// asked for, so `kcp-edge routes list` never pays for the gateway's imports.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import type { Command } from './command/types.ts';

const commands: Record<string, () => Promise<{ command: Command }>> = {
  // name: () => import('./concern/command.ts'),
  index: () => import('./routing/cli/index-command.ts'),
  kubeconfig: () => import('./auth/kubeconfig-command.ts'),
  ratelimit: () => import('./ratelimit/explain-command.ts'),
  routes: () => import('./routing/cli/routes-command.ts'),
  serve: () => import('./serve/serve-command.ts'),
  shards: () => import('./routing/cli/shards-command.ts'),
  sync: () => import('./sync/command.ts'),
  workspaces: () => import('./routing/cli/workspaces-command.ts'),
};

// The stand-in shard and the local stack built on it are development tools: the container image leaves
// src/sim/ out, and there `dev` and `sim` are not commands at all rather than commands that cannot work.
if (existsSync(new URL('./sim/index.ts', import.meta.url))) {
  commands['dev'] = () => import('./dev/command.ts');
  commands['sim'] = () => import('./sim/command.ts');
}

function usage(): string {
  return [
    'usage: kcp-edge <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands)
      .sort()
      .map((name) => `  ${name}`),
    '',
    'Run `kcp-edge <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    process.stderr.write(`kcp-edge: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  // The gateway (serve, and dev, which runs one): V8 must not decide from what survived start-up to
  // allocate objects straight into its old generation (allocation-site pretenuring). Seeded that way,
  // node:http2's own objects kept every closed stream through the young-generation collections: ~1 KB
  // of each HTTP/2 request promoted, scavenges of ~6 ms instead of ~2 (loadtest/results/2026-12-06-gc.md).
  // Set before the command's modules load, which is when those decisions are first made.
  if (name === 'serve' || name === 'dev') setFlagsFromString('--no-allocation-site-pretenuring');
  let { command } = await load();
  const subs = command.subcommands;
  const sub = subs !== undefined && rest[0] !== undefined && Object.hasOwn(subs, rest[0]) ? subs[rest[0]] : undefined;
  if (sub !== undefined) {
    name = `${name} ${rest.shift()}`;
    ({ command } = await sub());
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const subs = Object.keys(command.subcommands ?? {});
    const nested = subs.length === 0 ? '' : `\n\nsubcommands:\n${subs.map((s) => `  ${name} ${s}`).join('\n')}`;
    process.stdout.write(`kcp-edge ${name}: ${command.summary}\n\noptions:\n${describeOptions(command.options)}${nested}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`kcp-edge ${name}: ${(err as Error).message}\n`);
    return 2;
  }
  const code = await command.run(parsed.values, parsed.positionals);
  return typeof code === 'number' ? code : 0;
}

function describeOptions(options: Command['options']): string {
  return Object.entries(options)
    .map(([flag, o]) => `  --${flag}${o.type === 'string' ? ' <value>' : ''}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`)
    .join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (serve, sim, dev) never resolve; short ones exit with their status.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kcp-edge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
