// The local stack, in start order. Reading this list tells what `kcp-edge dev` runs; a feature that
// joins the stack adds its step here (before `gateway` when the gateway must know about it).
import type { DevStep } from './stack.ts';
import { access } from './steps/access.ts';
import { certificates } from './steps/certificates.ts';
import { gateway } from './steps/gateway.ts';
import { kubeconfig } from './steps/kubeconfig.ts';
import { oidcIssuer } from './steps/oidc-issuer.ts';
import { rateLimit } from './steps/rate-limit.ts';
import { routing } from './steps/routing.ts';
import { serviceAccounts } from './steps/service-accounts.ts';
import { shards } from './steps/shards.ts';
import { sync } from './steps/sync.ts';
import { syncWorker } from './steps/sync-worker.ts';
import { users } from './steps/users.ts';
import { workspaces } from './steps/workspaces.ts';

export const devSteps: readonly DevStep[] = [
  certificates,
  oidcIssuer,
  shards,
  workspaces,
  sync,
  users,
  access,
  serviceAccounts,
  routing,
  rateLimit,
  gateway,
  syncWorker,
  kubeconfig,
];
