// Starts the upstream worker as its own process (its own CPU, like a real shard) and talks to it over IPC.
import type { Processes } from '../lib/processes.ts';
import type { UpstreamMessage, UpstreamOptions } from './server.ts';

export interface Upstream {
  port: number;
  /** Its process group, for the CPU it spends (lib/cpu.ts). */
  pgid: number;
  /** TLS connections accepted and requests answered (of them over HTTP/2, and still carrying an Authorization header) since start, and watches open now. */
  stats(): Promise<{ connections: number; requests: number; h2Requests: number; withAuthorization: number; watchers: number }>;
  /** Sends one event to every open watch; resolves with how many got it. */
  emit(seq: number): Promise<number>;
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
  const ask = <T extends UpstreamMessage['type']>(type: T, message: object) =>
    new Promise<Extract<UpstreamMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`upstream did not answer "${type}"`)), 10_000);
      const onMessage = (m: UpstreamMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m as Extract<UpstreamMessage, { type: T }>);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return {
    port,
    pgid: managed.pgid,
    stats: async () => {
      const { connections, requests, h2Requests, withAuthorization, watchers } = await ask('stats', { type: 'stats' });
      return { connections, requests, h2Requests, withAuthorization, watchers };
    },
    emit: async (seq) => (await ask('emitted', { type: 'emit', seq })).watchers,
    stop: () => managed.stop(),
  };
}
