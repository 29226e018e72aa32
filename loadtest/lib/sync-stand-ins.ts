// The sync benchmark's stand-in servers (two shards and the service cluster, with their consumer
// workspaces) on a thread of their own, so the creating clients and the timing watch do not queue on the
// servers' event loop, nor the servers on theirs: kcp shards and a service cluster are not in the process
// of the clients that load them. The main thread gets addresses and kubeconfigs, and can ask for a CPU
// profile of this thread.
import { Session } from 'node:inspector/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startSyncStack } from '../../test/sync/stack.ts';

export interface StandInsInfo {
  kcpKubeconfig: string;
  serviceKubeconfig: string;
  exportCluster: string;
  shardUrls: string[];
  /** Consumer workspaces in creation order: logical cluster and the URL of its shard. */
  workspaces: { cluster: string; shardUrl: string }[];
  setupMs: number;
}

type Request = { op: 'profile-start' } | { op: 'profile-stop' } | { op: 'close' };
type Reply = { op: 'ready'; info: StandInsInfo } | { op: 'profile'; profile: object } | { op: 'closed' } | { op: 'failed'; message: string };

export interface StandIns {
  info: StandInsInfo;
  startProfile(): Promise<void>;
  stopProfile(): Promise<object>;
  close(): Promise<void>;
}

/**
 * Starts the stand-ins with `workspaces` bound consumer workspaces (alternating shards): on their own
 * thread, or `inline` on the caller's (how the benchmark ran before, for comparison).
 */
export async function startStandIns(dir: string, workspaces: number, { inline = false } = {}): Promise<StandIns> {
  if (inline) return startInline(dir, workspaces);
  const worker = new Worker(new URL(import.meta.url), { workerData: { dir, workspaces } });
  const replies: Reply[] = [];
  let waiting: ((reply: Reply) => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (reply: Reply) => {
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve(reply);
    } else replies.push(reply);
  });
  worker.on('error', (err) => {
    failure = err;
    waiting?.({ op: 'failed', message: err.message });
  });
  const next = () =>
    new Promise<Reply>((resolve) => {
      const queued = replies.shift();
      if (queued !== undefined) resolve(queued);
      else if (failure !== undefined) resolve({ op: 'failed', message: failure.message });
      else waiting = resolve;
    });
  const ask = async <T extends Reply['op']>(request: Request | undefined, op: T): Promise<Extract<Reply, { op: T }>> => {
    if (request !== undefined) worker.postMessage(request);
    const reply = await next();
    if (reply.op !== op) throw new Error(`stand-ins thread: ${reply.op === 'failed' ? reply.message : `answered ${reply.op}, not ${op}`}`);
    return reply as Extract<Reply, { op: T }>;
  };
  const { info } = await ask(undefined, 'ready');
  return {
    info,
    async startProfile() {
      worker.postMessage({ op: 'profile-start' } satisfies Request);
    },
    async stopProfile() {
      return (await ask({ op: 'profile-stop' }, 'profile')).profile;
    },
    async close() {
      await ask({ op: 'close' }, 'closed').catch(() => undefined);
      await worker.terminate();
    },
  };
}

async function startInline(dir: string, workspaces: number): Promise<StandIns> {
  const { info, stack } = await setUp(dir, workspaces);
  const session = new Session();
  return {
    info,
    async startProfile() {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    async stopProfile() {
      const { profile } = (await session.post('Profiler.stop')) as { profile: object };
      session.disconnect();
      return profile;
    },
    close: () => stack.close(),
  };
}

async function setUp(dir: string, workspaces: number) {
  const started = performance.now();
  const stack = await startSyncStack(dir);
  const created: StandInsInfo['workspaces'] = [];
  for (let i = 0; i < workspaces; i++) {
    const ws = await stack.createWorkspace(`org${i % 10}`, `proj${i}`, i % 2);
    created.push({ cluster: ws.cluster, shardUrl: ws.shard.url });
  }
  const info: StandInsInfo = {
    kcpKubeconfig: stack.kcpKubeconfig,
    serviceKubeconfig: stack.serviceKubeconfig,
    exportCluster: stack.exportCluster,
    shardUrls: stack.shards.map((s) => s.url),
    workspaces: created,
    setupMs: performance.now() - started,
  };
  return { info, stack };
}

async function serve(port: NonNullable<typeof parentPort>, { dir, workspaces }: { dir: string; workspaces: number }): Promise<void> {
  const { info, stack } = await setUp(dir, workspaces);
  port.postMessage({ op: 'ready', info } satisfies Reply);
  const session = new Session();
  port.on('message', (request: Request) => {
    void (async () => {
      if (request.op === 'profile-start') {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      } else if (request.op === 'profile-stop') {
        const { profile } = (await session.post('Profiler.stop')) as { profile: object };
        session.disconnect();
        port.postMessage({ op: 'profile', profile } satisfies Reply);
      } else {
        await stack.close();
        port.postMessage({ op: 'closed' } satisfies Reply);
        port.close();
      }
    })().catch((err: unknown) => port.postMessage({ op: 'failed', message: (err as Error).message } satisfies Reply));
  });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  serve(port, workerData as { dir: string; workspaces: number }).catch((err: unknown) => port.postMessage({ op: 'failed', message: (err as Error).message } satisfies Reply));
}
