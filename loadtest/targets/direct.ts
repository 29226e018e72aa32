// The baseline: the client talks to the upstream itself.
import { LIST_PATH } from '../upstream/body.ts';
import type { Target } from './types.ts';

export const direct: Target = {
  name: 'direct',
  describe: async () => 'direct to the upstream',
  start: async (env) => ({ port: env.upstreamPort, path: LIST_PATH, headers: {}, pgids: [], stop: async () => {} }),
};
