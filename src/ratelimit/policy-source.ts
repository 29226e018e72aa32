// Where a limiter reads the policy from, once per request: a fixed policy, or a watched file. A
// reload swaps one reference, so requests in flight and open watches keep the decision (and the
// slot) they were admitted with, and the next request sees the new policy. An invalid edit is
// rejected and the previous policy stays in force.
import type { ConfigWatchOptions } from '../config/index.ts';
import { parsePolicy, watchPolicyFile, type CompiledPolicy, type RateLimitPolicy } from './policy.ts';

export interface PolicySource {
  current(): RateLimitPolicy;
  close(): void;
}

/** The policy used when no file is given: only the built-in exempt and catch-all entries. */
export function defaultPolicy(): Promise<RateLimitPolicy> {
  return parsePolicy('', 'built-in default rate policy');
}

export function staticPolicy(policy: RateLimitPolicy): PolicySource {
  return { current: () => policy, close: () => {} };
}

export async function filePolicy(file: string, options: ConfigWatchOptions<CompiledPolicy> = {}): Promise<PolicySource> {
  const watcher = await watchPolicyFile(file, options);
  return { current: () => watcher.current, close: () => watcher.close() };
}
