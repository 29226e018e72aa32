// Runs the steps in order; when one fails, what already started is stopped before the error surfaces.
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DevStack, type DevOptions, type DevStep } from './stack.ts';
import { devSteps } from './steps.ts';

export class DevStepError extends Error {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DevStepError';
    this.step = step;
  }
}

export async function startDevStack(options: DevOptions, steps: readonly DevStep[] = devSteps): Promise<DevStack> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const files = {
    gatewayConfig: join(dir, 'gateway.yaml'),
    routing: join(dir, 'routing.yaml'),
    kubeconfig: join(dir, 'kubeconfig'),
    log: join(dir, 'gateway.log'),
    certs: join(dir, 'certs'),
    adminTokens: join(dir, 'admin-tokens.csv'),
    auditPolicy: join(dir, 'audit-policy.yaml'),
    auditLog: join(dir, 'audit.log'),
  };
  // A kubeconfig from an earlier run must not be mistaken for this run being ready.
  await rm(files.kubeconfig, { force: true });
  const stack = new DevStack({ ...options, dir }, files);
  for (const step of steps) {
    try {
      await step.run(stack);
    } catch (err) {
      await stack.stop().catch(() => undefined);
      throw new DevStepError(step.name, err);
    }
  }
  return stack;
}
