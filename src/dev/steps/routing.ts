// The embedded routing table, written from what the shards really did; the gateway follows this file,
// so a newcomer can edit it (mark a shard down, move a route) and watch the effect.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { DevStep } from '../stack.ts';

export const routing: DevStep = {
  name: 'routing',
  async run(stack) {
    const doc = {
      shards: [...stack.shards.values()].map((s) => ({ name: s.name, url: s.url, labels: s.labels })),
      routes: stack.workspaces.map((w) => ({ path: w.path, shard: w.shard, cluster: w.cluster })),
    };
    const header = '# Written by `kcp-edge dev`; the gateway re-reads it on every change.\n';
    await writeFile(stack.files.routing, header + stringify(doc));
    stack.gatewayConfig['routing'] = { embedded: { file: stack.files.routing } };
  },
};
