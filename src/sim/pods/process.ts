// What an exec or attach session runs, whatever protocol carries it: exec runs a built-in command; attach
// joins the container's main process: it shows what the container writes from then on (its log), and
// the main process here echoes its stdin into that output, the one behaviour a container without a real
// program can show.
import { runBuiltin, type ExecIO } from './commands.ts';
import type { PodStreamRequest } from './request.ts';

/** Exit status of a finished session, as the kubelet reports it on the error stream. */
export function exitStatus(request: PodStreamRequest, code: number): object {
  return code === 0
    ? { metadata: {}, status: 'Success' }
    : {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${request.command.join(' ')}], exit code ${code}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
}

/** What a session runs; `closed` settles when the client is gone. */
export async function runInPod(request: PodStreamRequest, io: ExecIO, closed: Promise<void>): Promise<number> {
  const files = request.runtime.files;
  if (request.kind === 'exec') return runBuiltin(request.command, io, { podName: request.podName, env: request.container.env ?? [], files });
  const log = request.runtime.log;
  let ended!: () => void;
  const containerEnded = new Promise<void>((resolve) => (ended = resolve));
  const stop = log.follow((line) => io.stdout(`${line.slice(line.indexOf(' ') + 1)}\n`), ended);
  try {
    if (request.stdin) {
      for await (const chunk of io.stdin) log.write(chunk.toString('utf8'));
    } else {
      await Promise.race([closed, containerEnded]);
    }
  } finally {
    stop();
  }
  return 0;
}
