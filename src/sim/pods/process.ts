// What an exec or attach session runs, whatever protocol carries it: exec runs a built-in command; attach
// joins the container's main process, which here echoes its stdin to stdout (and so to the pod's log),
// the one behaviour a container without a real program can show.
import { runBuiltin, type ExecIO } from './commands.ts';
import type { PodStreamRequest } from './request.ts';

/** Exit status of a finished session, as the kubelet reports it on the error stream. */
export function exitStatus(request: PodStreamRequest, code: number): object {
  return code === 0
    ? { metadata: {}, status: 'Success' }
    : {
        metadata: {}, status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${request.command.join(' ')}], exit code ${code}`,
        reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
}

export async function runInPod(request: PodStreamRequest, io: ExecIO): Promise<number> {
  const files = request.runtime.files;
  if (request.kind === 'exec') return runBuiltin(request.command, io, { podName: request.podName, env: request.container.env ?? [], files });
  for await (const chunk of io.stdin) {
    io.stdout(chunk);
    request.runtime.log.write(chunk.toString('utf8'));
  }
  return 0;
}
