// A bare undici forwarder in one Node process (see node-floor-server.ts): the reference line between
// nginx and kcp-edge.
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LIST_PATH } from '../upstream/body.ts';
import { benchBearerToken } from './kcp-edge.ts';
import type { Target } from './types.ts';

/** Extra arguments for node (e.g. --cpu-prof) when profiling the floor beside kcp-edge. */
export const nodeFloorNodeArgs: string[] = [];

export const nodeFloor: Target = {
  name: 'node-floor',
  describe: async () => `bare undici Pool.dispatch() forwarder, Node ${process.versions.node}, one process`,
  async start(env, trustCaFile) {
    const port = await freePort();
    const options = {
      port,
      certFile: env.serverCertFile,
      keyFile: env.serverKeyFile,
      upstream: `https://${LOOPBACK}:${env.upstreamPort}`,
      caFile: trustCaFile,
      clientCertFile: env.clientCertFile,
      clientKeyFile: env.clientKeyFile,
    };
    const managed = env.processes.spawn(`node-floor-${port}`, process.execPath, [
      // As `kcp-edge serve` runs (src/cli.ts): with V8's allocation-site pretenuring, whatever survived
      // start-up can make node:http2 keep closed streams through young collections, in the floor too.
      '--no-allocation-site-pretenuring',
      ...nodeFloorNodeArgs,
      new URL('./node-floor-server.ts', import.meta.url).pathname,
      JSON.stringify(options),
    ]);
    await waitForPort(port, { what: 'node-floor', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    // kcp-edge's request, token included: the floor reads the same bytes and drops the credential unchecked.
    const headers = { authorization: `Bearer ${await benchBearerToken(env)}` };
    return { port, path: LIST_PATH, headers, pgids: [managed.pgid], stop: () => managed.stop() };
  },
};
