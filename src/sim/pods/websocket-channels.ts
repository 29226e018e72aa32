// exec and attach over WebSocket with the channel.k8s.io subprotocols (v5 down to v1), as kubectl 1.30+
// speaks by default: one byte of stream id per binary message (0 stdin, 1 stdout, 2 stderr, 3
// error/status, 4 resize; v5 adds 255 = "this stream is closed"). The exit status travels as a Status on
// stream 3.
import type { WebSocket } from 'ws';
import { exitStatus, runInPod } from './process.ts';
import type { PodStreamRequest } from './request.ts';

export const channelProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;
/**
 * How long the stand-in's "container runtime" takes to start the process. A kubelet's exec goes through
 * CRI before the first byte comes back; answering at once instead loses it: client-go (kubectl 1.32
 * included) starts reading the connection before it has set up its streams, and discards, with "Unknown
 * stream id", what arrives in between — then fails with "closed all streams" when the session ends too.
 */
const processStartMs = 50;

export function serveChannels(ws: WebSocket, request: PodStreamRequest): void {
  // A client that vanishes mid-session must not take the shard down with an unhandled 'error'.
  ws.on('error', () => ws.terminate());
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const statusChannel = ws.protocol === 'v4.channel.k8s.io' || v5;
  const send = (channel: number, data: string | Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data, 'utf8') : data]));
  };
  const queue: Buffer[] = [];
  let stdinClosed = !request.stdin;
  let wake: (() => void) | undefined;
  const closeStdin = () => {
    stdinClosed = true;
    wake?.();
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : Buffer.from(data.toString(), 'utf8');
    if (frame.length === 0) return;
    if (frame[0] === STDIN) queue.push(frame.subarray(1));
    if (v5 && frame[0] === CLOSE && frame[1] === STDIN) closeStdin();
    wake?.();
  });
  const closed = new Promise<void>((resolve) => ws.once('close', resolve));
  ws.on('close', closeStdin);
  const stdin: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as Buffer;
        if (stdinClosed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
  const run = () =>
    void runInPod(
      request,
      {
        stdout: (data) => send(STDOUT, data),
        stderr: (text) => send(request.tty ? STDOUT : STDERR, text),
        stdin,
      },
      closed,
    ).then((code) => {
      if (statusChannel) send(ERROR, JSON.stringify(exitStatus(request, code)));
      else if (code !== 0) send(ERROR, `command terminated with non-zero exit code: exit code ${code}`);
      ws.close(1000);
    });
  setTimeout(run, processStartMs);
}
