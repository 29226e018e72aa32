// Starts the upstream worker as its own process (its own CPU, like a real shard) and talks to it over IPC.
import type { Processes } from '../lib/processes.ts';
import type { UpstreamMessage, UpstreamOptions } from './server.ts';

export interface Upstream {
  port: number;
  /** TLS connections accepted and requests answered since start. */
  stats(): Promise<{ connections: number; requests: number }>;
  stop(): Promise<void>;
}

export async function startUpstream(processes: Processes, options: UpstreamOptions): Promise<Upstream> {
  const managed = processes.spawn('upstream', process.execPath, [new URL('./server.ts', import.meta.url).pathname, JSON.stringify(options)], { ipc: true });
  const child = managed.child;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`upstream did not start:\n${managed.tail()}`)), 15_000);
    child.on('message', (m: UpstreamMessage) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
    child.once('exit', () => reject(new Error(`upstream exited:\n${managed.tail()}`)));
  });
  return {
    port,
    stats: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('upstream did not answer stats')), 5000);
        const onMessage = (m: UpstreamMessage) => {
          if (m.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({ connections: m.connections, requests: m.requests });
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    stop: () => managed.stop(),
  };
}
