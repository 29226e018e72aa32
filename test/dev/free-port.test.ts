// The dev stack's gateway port is chosen before the gateway listens: it must stay out of the range the
// kernel hands out to listen(0) and outgoing connections, or a process beside it may take it meanwhile.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { reserveLoopbackPort } from '../../src/dev/free-port.ts';

test('the reserved port lies below the ephemeral range, and a listener can take it', async () => {
  const ephemeralLow = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await reserveLoopbackPort();
    assert.ok(port >= 20_000 && port < ephemeralLow, `port ${port} outside [20000, ${ephemeralLow})`);
    ports.add(port);
  }
  assert.ok(ports.size > 1, 'chosen at random, not one fixed port');
  const port = await reserveLoopbackPort();
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  server.close();
  await once(server, 'close');
});
