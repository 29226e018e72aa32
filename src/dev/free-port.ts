// A loopback port free now, for a listener that starts later: the shards must know the gateway's URL
// (their external URL, reported in every Workspace's spec.URL) before the gateway can start. The port
// is taken below the kernel's ephemeral range: a port from listen(0) is one the kernel may hand to any
// other listen(0) or outgoing connection between our check and the gateway's listen, as it did to
// tests running beside the dev stack; below that range only another explicit choice can take it.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';

/** Lowest port tried: above the registered ports most services default to. */
const floor = 20_000;

export async function reserveLoopbackPort(): Promise<number> {
  const below = await ephemeralRangeStart();
  if (below !== undefined && below - floor >= 1_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = floor + Math.floor(Math.random() * (below - floor));
      if (await isFree(port)) return port;
    }
  }
  return listenAndRelease(0);
}

/** The first port of the kernel's ephemeral range, where it has one we can read (Linux). */
async function ephemeralRangeStart(): Promise<number | undefined> {
  try {
    const low = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

async function isFree(port: number): Promise<boolean> {
  try {
    await listenAndRelease(port);
    return true;
  } catch {
    return false;
  }
}

async function listenAndRelease(port: number): Promise<number> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening'); // rejects with the 'error' (EADDRINUSE) instead
  const bound = (server.address() as AddressInfo).port;
  server.close();
  await once(server, 'close');
  return bound;
}
