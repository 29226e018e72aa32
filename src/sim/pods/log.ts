// GET pods/<name>/log: what the pod's container wrote (see runtime.ts), with tailLines, timestamps and
// follow (streamed until the client goes away or the pod is deleted), as `kubectl logs [-f]` reads it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotAllowed, notFound, SimError } from '../errors.ts';
import type { ShardState } from '../shard-state.ts';
import { podRuntime } from './runtime.ts';

export interface PodLogRequest {
  shard: ShardState;
  cluster: string;
  namespace: string;
  name: string;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

export function servePodLog(r: PodLogRequest): void {
  if (r.req.method !== 'GET') throw methodNotAllowed();
  const pod = r.shard.store.get(r.cluster, 'pods', r.namespace, r.name);
  if (pod === undefined) throw notFound('pods', r.name);
  const containers = ((pod['spec'] as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map((c) => c.name);
  const container = r.query.get('container') ?? containers[0] ?? '';
  if (!containers.includes(container)) throw new SimError(400, 'BadRequest', `container ${container} is not valid for pod ${r.name}`);
  if (r.query.get('previous') === 'true') throw new SimError(400, 'BadRequest', `previous terminated container "${container}" in pod "${r.name}" not found`);
  const timestamps = r.query.get('timestamps') === 'true';
  const shown = (line: string) => `${timestamps ? line : line.slice(line.indexOf(' ') + 1)}\n`;
  const log = podRuntime(r.shard, r.cluster, r.namespace, r.name).log;
  const tail = Number(r.query.get('tailLines') ?? '-1');
  const lines = tail >= 0 ? log.lines.slice(Math.max(0, log.lines.length - tail)) : log.lines;
  const body = lines.map(shown).join('');
  if (r.query.get('follow') !== 'true') {
    r.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    r.res.end(body);
    return;
  }
  r.res.writeHead(200, { 'content-type': 'text/plain' });
  r.res.flushHeaders();
  if (body !== '') r.res.write(body);
  const stop = log.follow(
    (line) => r.res.write(shown(line)),
    () => r.res.end(),
  );
  r.res.on('close', stop);
}
