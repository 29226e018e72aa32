// The tiny command set pods "run" here, so `kubectl exec` and `kubectl cp` work end to end: echo, cat,
// env, hostname, true, false, ls, mkdir, test, and tar (c and x, over the pod's in-memory filesystem).
// Anything else fails like a missing binary does in a container.
import type { PodFiles } from './files.ts';
import { normalise } from './files.ts';
import { createTar, extractTar, TarFormatError, type TarEntry } from './tar.ts';

export interface ExecIO {
  stdout(data: string | Buffer): void;
  stderr(text: string): void;
  /** Ends once the client closes stdin (at once when stdin was not requested). */
  stdin: AsyncIterable<Buffer>;
}

export interface ExecContext {
  podName: string;
  env: Array<{ name: string; value?: string }>;
  files: PodFiles;
}

async function readAll(stdin: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function runBuiltin(command: string[], io: ExecIO, context: ExecContext): Promise<number> {
  const [program = '', ...args] = command;
  const files = context.files;
  switch (program.replace(/^\/(usr\/)?bin\//, '')) {
    case 'echo': {
      const noNewline = args[0] === '-n';
      io.stdout(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
      return 0;
    }
    case 'cat': {
      if (args.length === 0 || args[0] === '-') {
        for await (const chunk of io.stdin) io.stdout(chunk);
        return 0;
      }
      let code = 0;
      for (const path of args) {
        const entry = files.get(path);
        if (entry?.type === 'file') io.stdout(entry.data);
        else {
          io.stderr(entry === undefined ? `cat: can't open '${path}': No such file or directory\n` : `cat: read error: Is a directory\n`);
          code = 1;
        }
      }
      return code;
    }
    case 'env': {
      const vars = [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `HOSTNAME=${context.podName}`,
        ...context.env.map((e) => `${e.name}=${e.value ?? ''}`),
        'HOME=/root',
      ];
      io.stdout(vars.map((v) => `${v}\n`).join(''));
      return 0;
    }
    case 'hostname':
      io.stdout(`${context.podName}\n`);
      return 0;
    case 'true':
      return 0;
    case 'false':
      return 1;
    case 'test':
    case '[':
      return test(
        args.filter((a) => a !== ']'),
        files,
      )
        ? 0
        : 1;
    case 'ls': {
      const path = args.find((a) => !a.startsWith('-')) ?? '/';
      const entry = files.get(path);
      if (entry === undefined) {
        io.stderr(`ls: ${path}: No such file or directory\n`);
        return 1;
      }
      const base = normalise(path);
      const names =
        entry.type === 'file'
          ? [base.slice(base.lastIndexOf('/') + 1)]
          : files
              .walk(base)
              .map(([name]) => name.slice(base === '/' ? 1 : base.length + 1))
              .filter((n) => n !== '' && !n.includes('/'));
      io.stdout(names.map((n) => `${n}\n`).join(''));
      return 0;
    }
    case 'mkdir':
      for (const path of args.filter((a) => !a.startsWith('-'))) files.mkdir(path);
      return 0;
    case 'tar':
      return tar(args, io, files);
    default:
      io.stderr(`exec: "${program}": executable file not found in $PATH\n`);
      return 127;
  }
}

function test(args: string[], files: PodFiles): boolean {
  const [op = '', path = ''] = args;
  const entry = files.get(path);
  if (op === '-d') return entry?.type === 'dir';
  if (op === '-f') return entry?.type === 'file';
  if (op === '-e') return entry !== undefined;
  return op !== '';
}

interface TarOptions {
  mode: 'c' | 'x' | 't' | undefined;
  archive: string | undefined;
  directory: string;
  paths: string[];
}

/** `tar cf - PATH…`, `tar xmf - -C DIR`, `tar tf -`, flags with or without a dash. */
function parseTar(args: string[]): TarOptions {
  const options: TarOptions = { mode: undefined, archive: undefined, directory: '/', paths: [] };
  const rest = [...args];
  let first = true;
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '-C' || arg === '--directory') options.directory = rest.shift() ?? '/';
    else if (arg.startsWith('--')) continue;
    else if ((arg.startsWith('-') && arg.length > 1) || (first && /^[cxtvmfzpo]+$/.test(arg))) {
      for (const flag of arg.replace(/^-/, '')) {
        if (flag === 'c' || flag === 'x' || flag === 't') options.mode = flag;
        if (flag === 'f') options.archive = rest.shift();
        if (flag === 'C') options.directory = rest.shift() ?? '/';
      }
    } else options.paths.push(arg);
    first = false;
  }
  return options;
}

async function tar(args: string[], io: ExecIO, files: PodFiles): Promise<number> {
  const options = parseTar(args);
  if (options.mode === undefined || (options.archive !== undefined && options.archive !== '-')) {
    io.stderr('tar: only archives on stdin/stdout (f -) with c, x or t are supported here\n');
    return 1;
  }
  if (options.mode === 'c') {
    const entries: TarEntry[] = [];
    let code = 0;
    let warned = false;
    for (const path of options.paths) {
      const found = files.walk(normalise(path, options.directory));
      if (found.length === 0) {
        io.stderr(`tar: ${path}: No such file or directory\n`);
        code = 1;
        continue;
      }
      if (path.startsWith('/') && !warned) {
        io.stderr("tar: Removing leading `/' from member names\n");
        warned = true;
      }
      const base = normalise(path, options.directory);
      const shown = path.startsWith('/') ? base.slice(1) : path.replace(/\/+$/, '');
      for (const [name, entry] of found) {
        entries.push({ name: shown + name.slice(base.length), type: entry.type, mode: entry.mode, mtime: entry.mtime, data: entry.data });
      }
    }
    io.stdout(createTar(entries));
    return code;
  }
  let entries: TarEntry[];
  try {
    entries = extractTar(await readAll(io.stdin));
  } catch (err) {
    io.stderr(`tar: ${err instanceof TarFormatError ? err.message : 'invalid tar magic'}\n`);
    return 1;
  }
  if (options.mode === 't') {
    io.stdout(entries.map((e) => `${e.name}\n`).join(''));
    return 0;
  }
  if (files.get(options.directory)?.type !== 'dir') {
    io.stderr(`tar: can't change directory to '${options.directory}': No such file or directory\n`);
    return 1;
  }
  for (const entry of entries) {
    const path = normalise(entry.name, options.directory);
    if (entry.type === 'dir') files.mkdir(path, entry.mode);
    else {
      files.mkdir(path.slice(0, path.lastIndexOf('/')) || '/');
      files.writeFile(path, entry.data, entry.mode || 0o644);
    }
  }
  return 0;
}
