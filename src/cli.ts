#!/usr/bin/env node
// The one entry point. Each subcommand lives beside the concern it drives and is loaded only when
// asked for, so `kcp-edge routes list` never pays for the gateway's imports.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: OptionValues, positionals: string[]): Promise<number | void>;
}

const commands: Record<string, () => Promise<{ command: Command }>> = {
  // name: () => import('./concern/command.ts'),
  sync: () => import('./sync/command.ts'),
};

function usage(): string {
  return [
    'usage: kcp-edge <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).sort().map((name) => `  ${name}`),
    '',
    'Run `kcp-edge <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`kcp-edge: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`kcp-edge ${name}: ${command.summary}\n\noptions:\n${describeOptions(command.options)}\n`);
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
