// Reading and checking a pod streaming request (exec, attach, portforward) before any protocol is spoken:
// the pod must exist and be running, the container must be one of its own, exec needs a command.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { authenticate, type AuthConfig } from '../authenticate.ts';
import { notFound, SimError } from '../errors.ts';
import { parseTarget } from '../request-path.ts';
import { resolveScope } from '../router.ts';
import type { ShardState } from '../shard-state.ts';
import { podRuntime, type PodRuntime } from './runtime.ts';

export type PodStreamKind = 'exec' | 'attach' | 'portforward';

export interface PodContainer {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ containerPort?: number }>;
}

export interface PodStreamRequest {
  kind: PodStreamKind;
  podName: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  container: PodContainer;
  /** Every port a container of the pod declares: what the pod "listens" on. */
  ports: number[];
  runtime: PodRuntime;
}

const kinds: readonly string[] = ['exec', 'attach', 'portforward'];

/** The request, undefined when it is not a pod streaming request, or a SimError to answer with. */
export function readPodStreamRequest(shard: ShardState, auth: AuthConfig, req: IncomingMessage): PodStreamRequest | undefined {
  const url = new URL(req.url ?? '/', 'https://shard.invalid');
  const target = parseTarget(url.pathname, shard.settings.mode);
  if (target?.kind !== 'resource' || target.resource !== 'pods' || !kinds.includes(target.subresource) || target.group !== '') return undefined;
  const kind = target.subresource as PodStreamKind;
  const identity = authenticate(req.socket as TLSSocket, req.headers, auth);
  const scope = resolveScope(shard, target.scope, identity, undefined);
  const pod = shard.store.get(scope.cluster, 'pods', target.namespace, target.name);
  if (pod === undefined) throw notFound('pods', target.name);
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    throw new SimError(400, 'BadRequest', `cannot ${kind === 'portforward' ? 'port-forward to' : `${kind} into`} a container in a completed pod; current phase is ${phase}`);
  const containers = (pod['spec'] as { containers?: PodContainer[] } | undefined)?.containers ?? [];
  const wanted = url.searchParams.get('container') ?? containers[0]?.name;
  const container = containers.find((c) => c.name === wanted);
  if (container === undefined) throw new SimError(400, 'BadRequest', `container ${wanted ?? ''} is not valid for pod ${target.name}`);
  const command = url.searchParams.getAll('command');
  if (kind === 'exec' && command.length === 0) throw new SimError(400, 'BadRequest', 'you must specify at least 1 command');
  const flag = (name: string) => ['true', '1'].includes((url.searchParams.get(name) ?? '').toLowerCase());
  return {
    kind,
    podName: target.name,
    command,
    stdin: flag('stdin'),
    stdout: flag('stdout'),
    stderr: flag('stderr'),
    tty: flag('tty'),
    container,
    ports: containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort ?? 0)).filter((p) => p > 0),
    runtime: podRuntime(shard, scope.cluster, target.namespace, target.name),
  };
}

export function rejectUpgrade(socket: Socket, err: SimError): void {
  const body = JSON.stringify(err.toStatus());
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[err.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${err.code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
