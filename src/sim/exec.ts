// pods/exec over WebSocket with the channel.k8s.io subprotocols (v5 down to v1), as kubectl 1.30+ speaks
// by default: one byte of stream id per binary message (0 stdin, 1 stdout, 2 stderr, 3 error/status,
// 4 resize; v5 adds 255 = "this stream is closed"). The exit status travels as a Status on stream 3.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, type AuthConfig } from './authenticate.ts';
import { notFound, SimError } from './errors.ts';
import { runBuiltin } from './exec-commands.ts';
import type { ShardPlugin } from './plugin.ts';
import { parseTarget } from './request-path.ts';
import { resolveScope } from './router.ts';
import type { ShardState } from './shard-state.ts';

const protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

function rejectUpgrade(socket: Socket, err: SimError): void {
  const body = JSON.stringify(err.toStatus());
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[err.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${err.code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

interface ExecRequest {
  podName: string;
  command: string[];
  stdin: boolean;
  tty: boolean;
  env: Array<{ name: string; value?: string }>;
}

function prepare(shard: ShardState, auth: AuthConfig, req: IncomingMessage): ExecRequest | undefined {
  const url = new URL(req.url ?? '/', 'https://shard.invalid');
  const target = parseTarget(url.pathname, shard.settings.mode);
  if (target?.kind !== 'resource' || target.resource !== 'pods' || target.subresource !== 'exec' || target.group !== '') return undefined;
  const identity = authenticate(req.socket as TLSSocket, req.headers, auth);
  const scope = resolveScope(shard, target.scope, identity, undefined);
  const pod = shard.store.get(scope.cluster, 'pods', target.namespace, target.name);
  if (pod === undefined) throw notFound('pods', target.name);
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new SimError(400, 'BadRequest', `cannot exec into a container in a completed pod; current phase is ${phase}`);
  const containers = (pod['spec'] as { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } | undefined)?.containers ?? [];
  const wanted = url.searchParams.get('container') ?? containers[0]?.name;
  const container = containers.find((c) => c.name === wanted);
  if (container === undefined) throw new SimError(400, 'BadRequest', `container ${wanted ?? ''} is not valid for pod ${target.name}`);
  const command = url.searchParams.getAll('command');
  if (command.length === 0) throw new SimError(400, 'BadRequest', 'you must specify at least 1 command');
  const flag = (name: string) => ['true', '1'].includes(url.searchParams.get(name) ?? '');
  return { podName: target.name, command, stdin: flag('stdin'), tty: flag('tty'), env: container.env ?? [] };
}

function session(ws: WebSocket, exec: ExecRequest): void {
  // A client that vanishes mid-session must not take the shard down with an unhandled 'error'.
  ws.on('error', () => ws.terminate());
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const statusChannel = ws.protocol === 'v4.channel.k8s.io' || v5;
  const send = (channel: number, text: string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text, 'utf8')]));
  };
  const queue: Buffer[] = [];
  let stdinClosed = !exec.stdin;
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
  void runBuiltin(exec.command, {
    stdout: (text) => send(STDOUT, text),
    stderr: (text) => send(exec.tty ? STDOUT : STDERR, text),
    stdin,
  }, { podName: exec.podName, env: exec.env }).then((code) => {
    if (statusChannel) {
      const status = code === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${exec.command.join(' ')}], exit code ${code}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
      send(ERROR, JSON.stringify(status));
    } else if (code !== 0) {
      send(ERROR, `command terminated with non-zero exit code: exit code ${code}`);
    }
    ws.close(1000);
  });
}

export const execPlugin: ShardPlugin = {
  name: 'exec',
  start(shard, services) {
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => protocols.find((p) => offered.has(p)) ?? false,
    });
    services.onUpgrade((state, auth, req, socket, head) => {
      let exec: ExecRequest | undefined;
      try {
        exec = prepare(state, auth, req);
      } catch (err) {
        rejectUpgrade(socket, err instanceof SimError ? err : new SimError(500, 'InternalError', String(err)));
        return true;
      }
      if (exec === undefined) return false;
      const request = exec;
      wss.handleUpgrade(req, socket, head, (ws) => session(ws, request));
      return true;
    });
    void shard;
    return () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    };
  },
};
