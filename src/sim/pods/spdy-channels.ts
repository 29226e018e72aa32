// exec and attach over SPDY/3.1, as kubectl before 1.30 (and client-go tools) speak it: the client opens
// one SPDY stream per channel, told apart by the `streamtype` header (error, stdin, stdout, stderr,
// resize); the session starts once every stream the query asked for is open. The exit status is written
// on the error stream (a Status from v4 on, plain text before), then every stream is finished and the
// client closes the connection.
import type { Duplex } from 'node:stream';
import { SpdyConnection, type SpdyStream } from '../spdy/connection.ts';
import { exitStatus, runInPod } from './process.ts';
import type { PodStreamRequest } from './request.ts';

export const spdyChannelProtocols = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/** As the kubelet's streamCreationTimeout: a client that never opens its streams is dropped. */
const streamCreationTimeoutMs = 30_000;
/** How long the client gets to close the connection after the session ended. */
const closeGraceMs = 10_000;

function expectedStreams(request: PodStreamRequest, protocol: string): string[] {
  const expected = ['error'];
  if (request.stdin) expected.push('stdin');
  if (request.stdout) expected.push('stdout');
  if (request.stderr && !request.tty) expected.push('stderr');
  if (request.tty && (protocol === 'v3.channel.k8s.io' || protocol === 'v4.channel.k8s.io')) expected.push('resize');
  return expected;
}

export function serveSpdyChannels(socket: Duplex, request: PodStreamRequest, protocol: string): void {
  const expected = expectedStreams(request, protocol);
  const streams = new Map<string, SpdyStream>();
  let started = false;
  const connection = new SpdyConnection(socket, (stream) => {
    const type = stream.header('streamtype') ?? '';
    if (started || !expected.includes(type) || streams.has(type)) {
      stream.destroy();
      return;
    }
    streams.set(type, stream);
    if (expected.every((t) => streams.has(t))) {
      started = true;
      clearTimeout(creation);
      void run(connection, streams, request, protocol);
    }
  });
  const creation = setTimeout(() => connection.close(), streamCreationTimeoutMs);
  connection.onClose(() => clearTimeout(creation));
}

async function run(connection: SpdyConnection, streams: Map<string, SpdyStream>, request: PodStreamRequest, protocol: string): Promise<void> {
  const stdin = streams.get('stdin');
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  const error = streams.get('error')!;
  streams.get('resize')?.resume();
  error.resume();
  const write = (stream: SpdyStream | undefined, data: string | Buffer) => {
    if (stream !== undefined && !stream.destroyed && !stream.writableEnded) stream.write(data);
  };
  // Not destroyed when the command stops reading: the client may still be writing to it.
  const input: AsyncIterable<Buffer> = stdin?.iterator({ destroyOnReturn: false }) ?? (async function* () {})();
  const code = await runInPod(
    request,
    {
      stdout: (data) => write(stdout, data),
      stderr: (text) => write(request.tty ? stdout : stderr, text),
      stdin: input,
    },
    new Promise<void>((resolve) => connection.onClose(resolve)),
  ).catch(() => 1);
  if (protocol === 'v4.channel.k8s.io') write(error, JSON.stringify(exitStatus(request, code)));
  else if (code !== 0) write(error, `command terminated with non-zero exit code: exit code ${code}`);
  for (const stream of [stdout, stderr, error]) if (stream !== undefined && !stream.destroyed) stream.end();
  stdin?.resume();
  const grace = setTimeout(() => connection.finish(), closeGraceMs);
  connection.onClose(() => clearTimeout(grace));
}
