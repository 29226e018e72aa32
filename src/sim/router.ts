// One request from path to answer: health and version, then authentication, then the addressed logical
// cluster (or APIExport view), then discovery or the resource handler for the verb.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { authenticate, isPrivileged, type AuthConfig } from './authenticate.ts';
import type { Attributes } from './rbac/authorizer.ts';
import { authorize, decide, resourceVerb } from './rbac/authorize.ts';
import { impersonate } from './rbac/impersonate.ts';
import { aggregatedContentType, aggregatedDiscovery, aggregatedVersionAsked, apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import { methodNotAllowed, pathNotFound, SimError } from './errors.ts';
import type { ResourceRequest } from './handlers/context.ts';
import { handleGet, handleList } from './handlers/read.ts';
import { handleWatch } from './handlers/watch.ts';
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from './handlers/write.ts';
import { sendError, sendJSON } from './http-io.ts';
import { acceptsOpenapiV2Protobuf, encodeOpenapiV2, openapiV2ProtobufType } from './openapi-v2-protobuf.ts';
import { openapiV2Document, openapiV3Document, openapiV3Index } from './openapi.ts';
import { queryBool } from './query-params.ts';
import { servePodLog } from './pods/log.ts';
import { parseTarget, type Scope, type Target } from './request-path.ts';
import type { ShardState } from './shard-state.ts';
import { handleTokenRequest } from './token-request.ts';
import type { Identity, KubeObject, ResourceType } from './types.ts';

export interface ResolvedScope {
  cluster: string;
  types: ResourceType[];
  visible: (cluster: string) => boolean;
  /** Must not change its argument: watch events hand every watcher the stored object itself. */
  present: (cluster: string, object: KubeObject) => KubeObject;
}

export type ViewResolver = (scope: Scope, identity: Identity) => ResolvedScope;

export const version = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.3+kcp-edge-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const identityPresent = (_cluster: string, object: KubeObject) => object;

function forbidden(identity: Identity, cluster: string): SimError {
  return new SimError(403, 'Forbidden', `User "${identity.user}" cannot access workspace "${cluster}": access denied`);
}

export function resolveScope(shard: ShardState, scope: Scope, identity: Identity, views: ViewResolver | undefined, creatingCluster = false): ResolvedScope {
  if (scope.view !== undefined) {
    if (views === undefined) throw pathNotFound();
    return views(scope, identity);
  }
  const cluster = shard.resolveCluster(scope.cluster);
  if (cluster !== undefined) return { cluster, types: shard.typesFor(cluster), visible: () => true, present: identityPresent };
  // Shards create (and delete) each other's LogicalClusters as privileged users, before those clusters exist.
  if (creatingCluster && isPrivileged(identity) && /^[a-z0-9]+$/.test(scope.cluster)) {
    return { cluster: scope.cluster, types: shard.typesFor(scope.cluster), visible: () => true, present: identityPresent };
  }
  throw forbidden(identity, scope.cluster);
}

/** Health, version and the service-account issuer need no identity, as kube-apiserver allows everyone (system:public-info-viewer). */
function publicInfo(shard: ShardState, path: string, query: URLSearchParams, res: ServerResponse): boolean {
  const probe = /^\/(healthz|livez|readyz)(?:\/(ping|log|etcd))?$/.exec(path);
  if (probe !== null) {
    // Every check passes; `?verbose` lists them as kube-apiserver does, a named check answers alone.
    const verbose = queryBool(query, 'verbose') && probe[2] === undefined;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(verbose ? `${['ping', 'log', 'etcd'].map((c) => `[+]${c} ok`).join('\n')}\n${probe[1]} check passed\n` : 'ok');
    return true;
  }
  if (path === '/version') {
    sendJSON(res, 200, version);
    return true;
  }
  // Service-account issuer discovery, served to anyone (kube binds system:service-account-issuer-discovery
  // for this; many clusters grant it to unauthenticated callers so relying parties can fetch the keys).
  const signer = shard.serviceAccountSigner;
  if (signer !== undefined && (path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks')) {
    void signer().then(
      (s) => (path === '/openid/v1/jwks' ? sendJSON(res, 200, s.jwks(), 'application/jwk-set+json') : sendJSON(res, 200, s.discovery(`${shard.url}/openid/v1/jwks`))),
      (err: unknown) => sendError(res, err),
    );
    return true;
  }
  return false;
}

function openapi(req: IncomingMessage, res: ServerResponse, path: string, types: ResourceType[], prefix: string): void {
  if (path === '/openapi/v2') {
    const accept = req.headers.accept ?? '';
    // client-go asks for gnostic protobuf only; everyone else gets JSON.
    if (acceptsOpenapiV2Protobuf(accept)) {
      const body = encodeOpenapiV2(openapiV2Document(types));
      res.writeHead(200, { 'content-type': openapiV2ProtobufType, 'content-length': body.length, 'cache-control': 'no-cache, private' });
      res.end(body);
      return;
    }
    if (!acceptsJSON(accept)) throw new SimError(406, 'NotAcceptable', `only the following media types are accepted: application/json, ${openapiV2ProtobufType}`);
    return sendJSON(res, 200, openapiV2Document(types));
  }
  if (path === '/openapi/v3') return sendJSON(res, 200, openapiV3Index(types, prefix));
  const doc = path.startsWith('/openapi/v3/') ? openapiV3Document(types, path.slice('/openapi/v3/'.length)) : undefined;
  if (doc === undefined) throw pathNotFound();
  sendJSON(res, 200, doc);
}

function acceptsJSON(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => /^\s*(application\/json|application\/\*|\*\/\*)\s*(;|$)/i.test(range));
}

export async function route(shard: ShardState, auth: AuthConfig, views: ViewResolver | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // kube-apiserver answers every request with its Audit-ID: the caller's when it sent one.
  const auditId = req.headers['audit-id'];
  res.setHeader('Audit-Id', typeof auditId === 'string' && auditId !== '' ? auditId : randomUUID());
  try {
    const url = new URL(req.url ?? '/', 'https://shard.invalid');
    const path = url.pathname;
    const target = parseTarget(path, shard.settings.mode);
    if (target?.kind === 'plain' && publicInfo(shard, target.path, url.searchParams, res)) return;
    const caller = authenticate(req.socket as TLSSocket, req.headers, auth);
    if (target === undefined) throw pathNotFound();
    if (target.kind === 'plain') {
      if (target.path !== '/openapi/v2' && !target.path.startsWith('/openapi/v3')) throw pathNotFound();
      const scope = resolveScope(shard, target.scope, caller, views);
      const identity = actingIdentity(shard, target.scope, scope, caller, req);
      authorizeIn(shard, target.scope, scope, identity, { kind: 'nonResource', verb: 'get', path: target.path });
      return openapi(req, res, target.path, scope.types, target.scope.prefix);
    }
    const creatingCluster = target.kind === 'resource' && target.group === 'core.kcp.io' && target.resource === 'logicalclusters';
    const scope = resolveScope(shard, target.scope, caller, views, creatingCluster);
    const identity = actingIdentity(shard, target.scope, scope, caller, req);
    if (target.kind === 'discovery') {
      authorizeIn(shard, target.scope, scope, identity, { kind: 'nonResource', verb: 'get', path: discoveryPath(target) });
      if (req.method !== 'GET') throw methodNotAllowed();
      const aggregated = aggregatedVersionAsked(req.headers.accept);
      if ((target.level === 'api' || target.level === 'apis') && aggregated !== undefined) {
        return sendJSON(res, 200, aggregatedDiscovery(scope.types, target.level === 'api', aggregated), aggregatedContentType(aggregated));
      }
      const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
      const doc =
        target.level === 'api'
          ? apiVersions(host)
          : target.level === 'apis'
            ? apiGroupList(scope.types)
            : target.level === 'group'
              ? apiGroup(scope.types, target.group)
              : apiResourceList(scope.types, target.group, target.version);
      if (doc === undefined) throw pathNotFound();
      return sendJSON(res, 200, doc);
    }

    const type = scope.types.find((t) => t.group === target.group && t.version === target.version && t.resource === target.resource);
    if (type === undefined) throw pathNotFound();
    if (target.subresource !== '' && !(type.subresources ?? []).includes(target.subresource as 'status')) throw pathNotFound();
    const verb = resourceVerb(req.method ?? 'GET', target.name !== '', target.watchPath || queryBool(url.searchParams, 'watch'));
    authorizeIn(shard, target.scope, scope, identity, {
      kind: 'resource',
      verb,
      apiGroup: target.group,
      resource: target.resource,
      subresource: target.subresource,
      namespace: target.namespace,
      name: target.name,
    });
    const r: ResourceRequest = {
      shard,
      identity,
      req,
      res,
      query: url.searchParams,
      type,
      cluster: scope.cluster,
      namespace: target.namespace,
      name: target.name,
      subresource: target.subresource,
      visible: scope.visible,
      present: scope.present,
    };
    if (['exec', 'attach', 'portforward'].includes(target.subresource)) throw new SimError(400, 'BadRequest', 'Upgrade request required');
    if (target.subresource === 'log') return servePodLog({ shard, cluster: scope.cluster, namespace: target.namespace, name: target.name, query: url.searchParams, req, res });
    if (target.subresource === 'token') return await handleTokenRequest(r);
    await dispatch(r, req.method ?? 'GET', target.watchPath);
  } catch (err) {
    sendError(res, err);
  }
}

/**
 * RBAC holds inside logical clusters; an APIExport view answers to its export's own rules. Requests
 * across every cluster (`/clusters/*`) outside a view are for the system only, as in kcp.
 */
function authorizeIn(shard: ShardState, asked: Scope, scope: ResolvedScope, identity: Identity, attrs: Attributes): void {
  if (shard.settings.authorization !== 'RBAC' || asked.view !== undefined) return;
  if (scope.cluster === '*') {
    if (!isPrivileged(identity)) throw forbidden(identity, '*');
    return;
  }
  authorize(shard.store, scope.cluster, identity, attrs, () => forbidden(identity, asked.cluster));
}

/** Whom the request acts as: the caller, or whom Impersonate-* names when the caller may impersonate in this cluster. */
function actingIdentity(shard: ShardState, asked: Scope, scope: ResolvedScope, caller: Identity, req: IncomingMessage): Identity {
  const rbac = shard.settings.authorization === 'RBAC' && asked.view === undefined && scope.cluster !== '*';
  return impersonate(caller, req.headers, (attrs) => !rbac || decide(shard.store, scope.cluster, caller, attrs).allowed);
}

function discoveryPath(target: Extract<Target, { kind: 'discovery' }>): string {
  const root = target.level === 'api' || (target.level === 'version' && target.group === '') ? '/api' : '/apis';
  if (target.level === 'api' || target.level === 'apis') return root;
  return target.group === '' ? `/api/${target.version}` : `${root}/${target.group}${target.level === 'version' ? `/${target.version}` : ''}`;
}

async function dispatch(r: ResourceRequest, method: string, watchPath: boolean): Promise<void> {
  const watch = watchPath || queryBool(r.query, 'watch');
  if (r.name === '') {
    if (method === 'GET') return watch ? handleWatch(r) : handleList(r);
    if (method === 'POST') return handleCreate(r);
    if (method === 'DELETE' && r.type.verbs.includes('deletecollection')) return handleDeleteCollection(r);
    throw methodNotAllowed();
  }
  if (r.type.ephemeral === true) throw methodNotAllowed();
  switch (method) {
    case 'GET':
      return handleGet(r);
    case 'PUT':
      return handleUpdate(r);
    case 'PATCH':
      return handlePatch(r);
    case 'DELETE':
      if (r.subresource !== '') throw methodNotAllowed();
      return handleDelete(r);
    default:
      throw methodNotAllowed();
  }
}
