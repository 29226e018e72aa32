// Two stand-in KCP shards in this process, sharing the dev CA and trusting the gateway's front-proxy
// client certificate for requestheader authentication, and enforcing RBAC as kcp does. shard-a is the
// root shard.
import { connectShards, startShard } from '../../sim/index.ts';
import { reserveLoopbackPort } from '../free-port.ts';
import type { DevStep } from '../stack.ts';

export const gatewayClientName = 'kcp-edge-gateway';
export const shardNames = ['shard-a', 'shard-b'] as const;

export const shards: DevStep = {
  name: 'shards',
  async run(stack) {
    const ca = stack.need(stack.ca, 'the dev CA');
    const frontProxyCA = stack.need(stack.frontProxyCA, 'the front-proxy CA');
    // As kcp shards behind a front proxy, workspaces report the gateway's address, not a shard's.
    stack.gatewayPort = stack.options.port !== 0 ? stack.options.port : await reserveLoopbackPort();
    const externalURL = `https://127.0.0.1:${stack.gatewayPort}`;
    const started = await Promise.allSettled(
      shardNames.map((name) => startShard({ name, ca, requestHeaderCA: frontProxyCA.certPem, requestHeaderAllowedNames: [gatewayClientName], authorization: 'RBAC', externalURL })),
    );
    for (const result of started) {
      if (result.status === 'rejected') continue;
      const shard = result.value;
      stack.shards.set(shard.name, shard);
      stack.onStop(`shard ${shard.name}`, () => shard.close());
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    connectShards(...stack.shards.values());
  },
};
