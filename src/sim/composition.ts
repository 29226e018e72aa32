// A stand-in for what Crossplane does on the service cluster, small enough to read in a minute: every
// object of one kind gets a finalizer of its own, a connection Secret (when the object names one in
// `spec.writeConnectionSecretToRef`) and, after that, a Ready condition in its status. On deletion the
// Secret goes and the finalizer is released, optionally after a delay, so a copy is seen to linger.
import type { ApiClient } from './client.ts';

export interface CompositionOptions {
  client: ApiClient;
  group: string;
  version: string;
  resource: string;
  finalizer?: string;
  /** How long a deleted object is held by our finalizer. */
  releaseDelayMs?: number;
}

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string; uid?: string };
  spec?: { writeConnectionSecretToRef?: { name?: string } };
  status?: { conditions?: { type: string; status: string }[]; observedGeneration?: number };
}

export interface Composition {
  stop(): Promise<void>;
}

export function startComposition(options: CompositionOptions): Composition {
  const { client } = options;
  const finalizer = options.finalizer ?? 'composition.sim.kcp-edge.io/cleanup';
  const collection = `/apis/${options.group}/${options.version}/${options.resource}`;
  const itemPath = (o: Obj) => `/apis/${options.group}/${options.version}/namespaces/${o.metadata.namespace}/${options.resource}/${o.metadata.name}`;
  let stopped = false;
  let closeWatch: (() => void) | undefined;
  const busy = new Set<string>();
  const again = new Map<string, Obj>();
  const timers = new Set<NodeJS.Timeout>();

  async function reconcile(o: Obj): Promise<void> {
    const path = itemPath(o);
    const secretName = o.spec?.writeConnectionSecretToRef?.name;
    const finalizers = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp !== undefined) {
      if (!finalizers.includes(finalizer)) return;
      if (secretName !== undefined) await client.request('DELETE', `/api/v1/namespaces/${o.metadata.namespace}/secrets/${secretName}`);
      await client.request('PATCH', path, {
        body: { metadata: { finalizers: finalizers.filter((f) => f !== finalizer), resourceVersion: o.metadata.resourceVersion } },
        contentType: 'application/merge-patch+json',
      });
      return;
    }
    if (!finalizers.includes(finalizer)) {
      await client.request('PATCH', path, {
        body: { metadata: { finalizers: [...finalizers, finalizer], resourceVersion: o.metadata.resourceVersion } },
        contentType: 'application/merge-patch+json',
      });
    }
    if (secretName !== undefined) {
      const secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, namespace: o.metadata.namespace },
        type: 'connection.crossplane.io/v1alpha1',
        data: {
          host: Buffer.from(`${o.metadata.name}.${o.metadata.namespace}.svc`).toString('base64'),
          username: Buffer.from('admin').toString('base64'),
          password: Buffer.from(`pw-${o.metadata.uid ?? o.metadata.name}`).toString('base64'),
        },
      };
      const res = await client.request('POST', `/api/v1/namespaces/${o.metadata.namespace}/secrets`, { body: secret });
      if (res.status >= 300 && res.status !== 409) throw new Error(`creating secret: ${res.status} ${res.text}`);
    }
    const ready = o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    if (ready && o.status?.observedGeneration === o.metadata.generation) return;
    const now = new Date().toISOString();
    await client.request('PATCH', `${path}/status`, {
      body: {
        status: {
          observedGeneration: o.metadata.generation,
          conditions: [
            { type: 'Synced', status: 'True', reason: 'ReconcileSuccess', lastTransitionTime: now },
            { type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: now },
          ],
        },
      },
      contentType: 'application/merge-patch+json',
    });
  }

  function schedule(o: Obj): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (busy.has(key)) {
      again.set(key, o);
      return;
    }
    const delay = o.metadata.deletionTimestamp !== undefined ? (options.releaseDelayMs ?? 0) : 0;
    busy.add(key);
    const timer = setTimeout(() => {
      timers.delete(timer);
      reconcile(o)
        .catch(() => undefined) // the next event (or the re-list) tries again
        .finally(() => {
          busy.delete(key);
          const next = again.get(key);
          again.delete(key);
          if (next !== undefined && !stopped) schedule(next);
        });
    }, delay);
    timers.add(timer);
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const list = await client.request<{ metadata: { resourceVersion: string }; items: Obj[] }>('GET', collection);
        if (list.status !== 200) throw new Error(`list: ${list.status}`);
        list.body.items.forEach(schedule);
        const stream = await client.watch(`${collection}?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
        closeWatch = () => stream.close();
        for (;;) {
          if (stopped) break;
          const event = await stream.next(60_000).catch(() => undefined);
          if (event === undefined) break;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') schedule(event.object as unknown as Obj);
        }
        stream.close();
      } catch {
        if (!stopped) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  const running = run();
  return {
    async stop() {
      stopped = true;
      closeWatch?.();
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
