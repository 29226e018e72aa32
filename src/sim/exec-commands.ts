// The tiny command set pods "run" here, so `kubectl exec` works end to end: echo, cat (stdin to stdout),
// env, hostname, true, false. Anything else fails like a missing binary does in a container.

export interface ExecIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves with all of stdin once the client closes it (empty when stdin was not requested). */
  stdin: AsyncIterable<Buffer>;
}

export interface ExecContext {
  podName: string;
  env: Array<{ name: string; value?: string }>;
}

export async function runBuiltin(command: string[], io: ExecIO, context: ExecContext): Promise<number> {
  const [program = '', ...args] = command;
  switch (program) {
    case 'echo': {
      const noNewline = args[0] === '-n';
      io.stdout(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
      return 0;
    }
    case 'cat': {
      if (args.length > 0 && args[0] !== '-') {
        io.stderr(`cat: can't open '${args[0] ?? ''}': No such file or directory\n`);
        return 1;
      }
      for await (const chunk of io.stdin) io.stdout(chunk.toString('utf8'));
      return 0;
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
    default:
      io.stderr(`exec: "${program}": executable file not found in $PATH\n`);
      return 127;
  }
}
