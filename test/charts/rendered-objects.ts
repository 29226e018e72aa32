// The parts of rendered Kubernetes objects the chart tests read, and the check that every config file a
// container is started with is one the product accepts, found where the pod mounts it.
import { posix } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { auditPolicyKind } from '../../src/audit/policy.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { isConfigError, parseConfig } from '../../src/config/index.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { routingFileKind } from '../../src/routing/embedded-file.ts';
import { syncConfigKind } from '../../src/sync/config.ts';

export type Labels = Record<string, string>;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: unknown[];
}

export interface Probe {
  httpGet: { path: string; port: string; scheme?: string };
}

export interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  envFrom?: unknown[];
}

export interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown>;
  persistentVolumeClaim?: { claimName: string };
}

export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes: Volume[];
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export const podSpec = (o: KubeObject): PodSpec => (o.spec!.template as { spec: PodSpec }).spec;
export const podLabels = (o: KubeObject): Labels => (o.spec!.template as { metadata: { labels: Labels } }).metadata.labels;
export const selects = (selector: Labels, labels: Labels): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
export const argAfter = (c: Container, flag: string): string | undefined => (c.args.includes(flag) ? c.args[c.args.indexOf(flag) + 1] : undefined);

/**
 * What a container finds at `path`: the text of a ConfigMap or Secret key the chart renders, `undefined`
 * for a file in a Secret the operator provides (not ours to read), or a problem.
 */
export function mountedFile(objects: KubeObject[], pod: PodSpec, container: Container, path: string): { text?: string; problem?: string } {
  const where = `${container.name}: ${path}`;
  const mount = container.volumeMounts.filter((m) => path.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (mount === undefined) return { problem: `${where} is on no mounted volume` };
  const volume = pod.volumes.find((v) => v.name === mount.name);
  const source = volume?.configMap ? { kind: 'ConfigMap', name: volume.configMap.name } : volume?.secret ? { kind: 'Secret', name: volume.secret.secretName } : undefined;
  if (source === undefined) return { problem: `${where}: volume ${mount.name} is not a ConfigMap or Secret` };
  const key = path.slice(mount.mountPath.length + 1);
  // With items, only the keys listed are there (the operator's Secret must have them: the pod will not start otherwise).
  const items = volume?.secret?.items;
  if (items !== undefined && !items.some((i) => i.path === key)) return { problem: `${where}: volume ${mount.name} projects no item ${key}` };
  const object = objects.find((o) => o.kind === source.kind && o.metadata.name === source.name);
  if (object === undefined) return {};
  const value = object.data?.[key];
  if (value === undefined) return { problem: `${where}: ${source.kind} ${source.name} has no key ${key}` };
  return { text: source.kind === 'Secret' ? Buffer.from(value, 'base64').toString() : value };
}

/** The fields of the gateway and sync configs that name files or ports (the rest is the validators' business). */
interface GatewayFile {
  listen?: { port?: number };
  tls: { certFile: string; keyFile: string };
  routing: {
    embedded?: { file: string };
    redis?: { passwordFile?: string; sentinelPasswordFile?: string; tls?: { caFile?: string; certFile?: string; keyFile?: string } };
  };
  upstream: { clientCertFile: string; clientKeyFile: string; caFile?: string };
  authentication?: { tokenFile?: string; clientCAFile?: string; orgRealms?: { caFile?: string } };
  rateLimit?: { policyFile?: string };
  admin?: { listen?: { port?: number }; tokenFile?: string; clientCAFile?: string };
  audit?: { policyFile: string; log?: { path: string }; webhook?: { caFile?: string; tokenFile?: string } };
}
interface SyncFile {
  kcp: { kubeconfig: string };
  serviceCluster: { kubeconfig: string };
  listen?: string;
}

async function configProblem(what: string, check: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (err) {
    return `${what}: ${isConfigError(err) ? err.message : (err as Error).message}`;
  }
}

async function gatewayProblems(objects: KubeObject[], pod: PodSpec, c: Container, configPath: string, data: unknown): Promise<string[]> {
  if (!gatewayConfigKind.validate(structuredClone(data))) return [`${configPath}: ${JSON.stringify(gatewayConfigKind.validate.errors)}`];
  const raw = data as GatewayFile;
  const problems: string[] = [];
  const at = (p: string) => posix.resolve(posix.dirname(configPath), p);
  const pem = (p: string | undefined, marker: RegExp) => {
    if (p === undefined) return;
    const { text, problem } = mountedFile(objects, pod, c, at(p));
    if (problem !== undefined) problems.push(problem);
    else if (text !== undefined && !marker.test(text)) problems.push(`${c.name}: ${at(p)} does not hold ${marker.source}`);
  };
  const certificate = /-----BEGIN CERTIFICATE-----/;
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  pem(raw.tls.certFile, certificate);
  pem(raw.tls.keyFile, key);
  pem(raw.upstream.clientCertFile, certificate);
  pem(raw.upstream.clientKeyFile, key);
  pem(raw.upstream.caFile, certificate);
  pem(raw.authentication?.clientCAFile, certificate);
  pem(raw.authentication?.orgRealms?.caFile, certificate);
  pem(raw.authentication?.tokenFile, /,/);
  pem(raw.routing.redis?.passwordFile, /./);
  pem(raw.routing.redis?.sentinelPasswordFile, /./);
  pem(raw.routing.redis?.tls?.caFile, certificate);
  pem(raw.routing.redis?.tls?.certFile, certificate);
  pem(raw.routing.redis?.tls?.keyFile, key);
  pem(raw.admin?.tokenFile, /,/);
  pem(raw.admin?.clientCAFile, certificate);
  if (raw.admin !== undefined) {
    const adminPort = c.ports.find((p) => p.name === 'admin')?.containerPort;
    if (adminPort !== (raw.admin.listen?.port ?? 6444)) problems.push(`${c.name}: port admin is ${adminPort}, the admin listener listens on ${raw.admin.listen?.port ?? 6444}`);
  }

  const port = c.ports.find((p) => p.name === 'https')?.containerPort;
  if (port !== (raw.listen?.port ?? 6443)) problems.push(`${c.name}: port https is ${port}, the gateway listens on ${raw.listen?.port ?? 6443}`);

  if (raw.routing.embedded !== undefined) {
    const path = at(raw.routing.embedded.file);
    const { text, problem } = mountedFile(objects, pod, c, path);
    if (problem !== undefined) problems.push(problem);
    else if (text !== undefined) {
      // A shard's caFile is checked like the other certificates; the rest with the product's own loader.
      const table = (parse(text) ?? {}) as { shards?: { caFile?: string }[] };
      for (const shard of table.shards ?? []) {
        pem(shard.caFile === undefined ? undefined : posix.resolve(posix.dirname(path), shard.caFile), certificate);
        delete shard.caFile;
      }
      problems.push(...[await configProblem(path, () => parseConfig(routingFileKind, stringify(table), path))].filter((p) => p !== undefined));
    }
  }
  if (raw.audit !== undefined) {
    const path = at(raw.audit.policyFile);
    const { text, problem } = mountedFile(objects, pod, c, path);
    if (problem !== undefined) problems.push(problem);
    else if (text !== undefined) problems.push(...[await configProblem(path, () => parseConfig(auditPolicyKind, text, path))].filter((p) => p !== undefined));
    pem(raw.audit.webhook?.caFile, certificate);
    pem(raw.audit.webhook?.tokenFile, /./);
    if (raw.audit.log !== undefined) {
      // The gateway appends and rotates there: a writable volume, not the read-only root filesystem.
      const logPath = at(raw.audit.log.path);
      const mount = c.volumeMounts.filter((m) => logPath.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      if (mount === undefined || mount.readOnly === true) problems.push(`${c.name}: ${logPath} is on no writable volume`);
    }
  }
  if (raw.rateLimit?.policyFile !== undefined) {
    const path = at(raw.rateLimit.policyFile);
    const { text, problem } = mountedFile(objects, pod, c, path);
    if (problem !== undefined) problems.push(problem);
    else if (text !== undefined) problems.push(...[await configProblem(path, () => parsePolicy(text, path))].filter((p) => p !== undefined));
  }
  return problems;
}

function syncProblems(objects: KubeObject[], pod: PodSpec, c: Container, configPath: string, data: unknown): string[] {
  if (!syncConfigKind.validate(structuredClone(data))) return [`${configPath}: ${JSON.stringify(syncConfigKind.validate.errors)}`];
  const raw = data as SyncFile;
  const at = (p: string) => posix.resolve(posix.dirname(configPath), p);
  const problems = [raw.kcp.kubeconfig, raw.serviceCluster.kubeconfig].flatMap((p) => mountedFile(objects, pod, c, at(p)).problem ?? []);
  // The kubelet probes the pod address: the worker must not listen on loopback only (its default).
  const listen = argAfter(c, '--listen') ?? raw.listen ?? '127.0.0.1:9464';
  const port = c.ports.find((p) => p.name === 'sync-http')?.containerPort;
  if (listen !== `0.0.0.0:${port}`) problems.push(`${c.name}: listens on ${listen}, probes go to port sync-http (${port}) on the pod address`);
  return problems;
}

/** Every problem with the config files the Deployments' containers are started with (none is the goal). */
export async function configFileProblems(objects: KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    const pod = podSpec(deployment);
    for (const c of pod.containers) {
      const configPath = argAfter(c, '--config');
      if (configPath === undefined) {
        problems.push(`${deployment.metadata.name}/${c.name}: no --config`);
        continue;
      }
      const { text, problem } = mountedFile(objects, pod, c, configPath);
      if (problem !== undefined || text === undefined) {
        problems.push(problem ?? `${c.name}: ${configPath} is not rendered by the chart`);
        continue;
      }
      const data: unknown = parse(text) ?? {};
      if (c.args[0] === 'serve') problems.push(...(await gatewayProblems(objects, pod, c, configPath, data)));
      else if (c.args[0] === 'sync') problems.push(...syncProblems(objects, pod, c, configPath, data));
      else problems.push(`${c.name}: unknown command ${c.args[0]}`);
    }
  }
  return problems;
}
