// The local stack as a list of small steps over one shared, typed state. Each step does one thing
// (make certificates, start shards, create workspaces, …) and registers how to undo it; `stop()`
// undoes everything in reverse. Features that join the stack later (Redis routing, rate policy,
// org-realm issuers, the sync worker) add a step to `devSteps` and, when they need one, a field here.
import type { RunningGateway } from '../serve/run-gateway.ts';
import type { CertificateAuthority, SimShard } from '../sim/index.ts';
import type { OidcIssuer } from '../sim/oidc-issuer.ts';
import type { KubeEndpoint } from '../kube/kubeconfig.ts';
import type { SyncWorker } from '../sync/worker.ts';

export interface DevOptions {
  /** Where the stack writes its config, certificates, kubeconfig and log. */
  dir: string;
  /** Gateway port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Rate policy file the gateway enforces; the built-in default policy when absent. */
  ratelimit?: string;
  /** Route through the shared Redis table (and run the indexer) instead of the embedded file. */
  redis?: string;
}

export interface DevWorkspace {
  /** Canonical path: root:org-acme:proj-frontend */
  path: string;
  /** Logical-cluster name the shard gave it. */
  cluster: string;
  shard: string;
  /** Organisation (first segment after root), undefined for root itself. */
  org: string | undefined;
  /** Project workspaces get a kubeconfig context. */
  project: boolean;
}

export interface DevUser {
  name: string;
  org: string;
  token: string;
  groups: string[];
  /** What RBAC grants it: admin of every workspace of its org (as kcp makes a workspace's owner), or view in one. */
  access: { owner: true } | { viewer: string };
}

export interface DevFiles {
  gatewayConfig: string;
  routing: string;
  kubeconfig: string;
  log: string;
  certs: string;
  /** The admin listener's token file (token,user,uid,groups). */
  adminTokens: string;
  /** The audit policy (the shipped one) and the audit log: one audit.k8s.io/v1 Event per line. */
  auditPolicy: string;
  auditLog: string;
}

export interface DevStep {
  name: string;
  run(stack: DevStack): Promise<void>;
}

export class DevStack {
  readonly options: DevOptions;
  readonly files: DevFiles;
  /** Signs shard and gateway serving certificates and the shards' admin client certificates. */
  ca: CertificateAuthority | undefined;
  /** Signs only the gateway's client certificate: the one the shards accept X-Remote-* headers from. */
  frontProxyCA: CertificateAuthority | undefined;
  /** The Keycloak stand-in: one realm per organisation, signing the dev users' tokens. */
  oidcIssuer: OidcIssuer | undefined;
  readonly shards = new Map<string, SimShard>();
  readonly workspaces: DevWorkspace[] = [];
  readonly users: DevUser[] = [];
  /** gateway.yaml as a document; steps before `gateway` may add to it (e.g. a rate policy). */
  gatewayConfig: Record<string, unknown> = {};
  gateway: RunningGateway | undefined;
  /** What the sync worker is given: the provider workspace, its service account's token, the service cluster. */
  syncAgent: { providerCluster: string; token: string; service: KubeEndpoint } | undefined;
  syncWorker: SyncWorker | undefined;
  /** The port the gateway will listen on, fixed before the shards start: their external URL names it. */
  gatewayPort: number | undefined;
  readonly #undo: { what: string; fn: () => Promise<void> }[] = [];
  #stopping: Promise<void> | undefined;

  constructor(options: DevOptions, files: DevFiles) {
    this.options = options;
    this.files = files;
  }

  /** Registers how to undo something just started; undone in reverse order by stop(). */
  onStop(what: string, fn: () => Promise<void>): void {
    this.#undo.push({ what, fn });
  }

  /** The value an earlier step must have set; a missing one is a bug in the step order. */
  need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`dev stack: ${what} is not set up yet (step order)`);
    return value;
  }

  get url(): string {
    return this.need(this.gateway, 'the gateway').gateway.url;
  }

  /** Stops one shard (its workspaces then fail at the gateway while the others keep serving). */
  async stopShard(name: string): Promise<void> {
    await this.need(this.shards.get(name), `shard ${name}`).close();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const { fn } of this.#undo.reverse()) await fn().catch((err: unknown) => void errors.push(err));
      if (errors.length > 0) throw new AggregateError(errors, 'dev stack: stopping failed');
    })();
    return this.#stopping;
  }
}
