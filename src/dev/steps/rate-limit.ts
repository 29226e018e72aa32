// The rate policy the dev gateway enforces: the file given with `--ratelimit` (followed live, so a
// newcomer can tighten it and watch kubectl slow down), or the built-in policy.
import { resolve } from 'node:path';
import type { DevStep } from '../stack.ts';

export const rateLimit: DevStep = {
  name: 'rate-limit',
  async run(stack) {
    const file = stack.options.ratelimit;
    stack.gatewayConfig['rateLimit'] = file === undefined ? {} : { policyFile: resolve(file) };
  },
};
