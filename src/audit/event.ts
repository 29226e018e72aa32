// One audit.k8s.io/v1 Event, shaped as kube-apiserver writes it, from a request's context. Where the
// gateway knows more than an apiserver does (the workspace, its org, the shard, who the credential named
// before the mapping), it says so in annotations under kcp-edge.io/, as kube does for its own extras.
import type { RequestContext } from '../gateway/context.ts';
import type { AuditLevel, AuditStage, AuditSubject } from './policy.ts';
import type { RecordedObjects } from './recorded-objects.ts';

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: { username: string; groups?: string[]; extra?: Record<string, string[]> };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { metadata: Record<string, never>; status?: string; message?: string; reason?: string; code: number };
  /** At Request and RequestResponse: the JSON body the client sent. */
  requestObject?: unknown;
  /** At RequestResponse: the JSON body the shard answered (never a watch's stream). */
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** The org of a canonical workspace path: root:org-acme:proj → org-acme. */
export function orgOfWorkspace(workspace: string): string {
  const parts = workspace.split(':');
  return (parts[0] === 'root' ? parts[1] : parts[0]) ?? '';
}

/** What the policy decides on. Unauthenticated requests are system:anonymous, as in kube. */
export function auditSubject(ctx: RequestContext): AuditSubject {
  const attrs = ctx.attrs;
  const workspace = ctx.target?.route.path ?? '';
  return {
    user: ctx.identity?.user ?? 'system:anonymous',
    groups: ctx.identity?.groups ?? ['system:unauthenticated'],
    verb: attrs?.verb ?? (ctx.req.method ?? '').toLowerCase(),
    isResourceRequest: attrs?.isResourceRequest ?? false,
    apiGroup: attrs?.apiGroup ?? '',
    resource: attrs?.resource ?? '',
    subresource: attrs?.subresource ?? '',
    name: attrs?.name ?? '',
    namespace: attrs?.namespace ?? '',
    path: attrs?.path ?? ctx.path,
    org: workspace === '' ? '' : orgOfWorkspace(workspace),
    workspace,
  };
}

/** Wall-clock time of a moment measured on performance.now(). */
function isoAt(performanceMs: number): string {
  return new Date(performance.timeOrigin + performanceMs).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

export function auditEvent(
  ctx: RequestContext,
  subject: AuditSubject,
  level: AuditLevel,
  stage: AuditStage,
  shard: string,
  objects?: RecordedObjects,
  stageAt = performance.now(),
): AuditEvent {
  const attrs = ctx.attrs;
  const identity = ctx.identity;
  const annotations: Record<string, string> = {};
  if (subject.workspace !== '') annotations['kcp-edge.io/workspace'] = subject.workspace;
  if (subject.org !== '') annotations['kcp-edge.io/org'] = subject.org;
  if (shard !== '') annotations['kcp-edge.io/shard'] = shard;
  if (ctx.target !== undefined) annotations['kcp-edge.io/logical-cluster'] = ctx.target.route.cluster;
  if (identity?.source !== undefined) {
    annotations['kcp-edge.io/authenticated-user'] = identity.source.user;
    if (identity.source.groups.length > 0) annotations['kcp-edge.io/authenticated-groups'] = identity.source.groups.join(',');
  }
  if (ctx.limit !== undefined) annotations['apiserver.latency.k8s.io/priority-level'] = ctx.limit.priorityLevel.name;
  if (ctx.error !== undefined) annotations['kcp-edge.io/error'] = ctx.error.code;
  const userAgent = ctx.req.headers['user-agent'];
  const remote = ctx.remoteAddress;
  const event: AuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level,
    auditID: ctx.auditId,
    stage,
    requestURI: ctx.path + ctx.query,
    verb: subject.verb,
    user: {
      username: subject.user,
      ...(subject.groups.length === 0 ? {} : { groups: [...subject.groups] }),
      ...(identity === undefined || Object.keys(identity.extra).length === 0 ? {} : { extra: identity.extra }),
    },
    sourceIPs: remote === undefined ? [] : [remote],
    ...(typeof userAgent === 'string' ? { userAgent } : {}),
    ...(attrs?.isResourceRequest === true
      ? {
          objectRef: {
            ...(attrs.resource === '' ? {} : { resource: attrs.resource }),
            ...(attrs.namespace === '' ? {} : { namespace: attrs.namespace }),
            ...(attrs.name === '' ? {} : { name: attrs.name }),
            ...(attrs.apiGroup === '' ? {} : { apiGroup: attrs.apiGroup }),
            ...(attrs.apiVersion === '' ? {} : { apiVersion: attrs.apiVersion }),
            ...(attrs.subresource === '' ? {} : { subresource: attrs.subresource }),
          },
        }
      : {}),
    requestReceivedTimestamp: isoAt(ctx.startedAt),
    stageTimestamp: isoAt(stageAt),
  };
  if (stage !== 'RequestReceived') {
    const code = ctx.statusCode === 0 ? 499 : ctx.statusCode;
    const failure = ctx.error?.toStatus();
    event.responseStatus = {
      metadata: {},
      ...(failure === undefined
        ? code < 400 && stage === 'ResponseComplete'
          ? { status: 'Success' }
          : {}
        : { status: 'Failure', message: failure.message, reason: failure.reason }),
      code,
    };
  }
  if (objects !== undefined) {
    if (objects.requestObject !== undefined) event.requestObject = objects.requestObject;
    if (objects.responseObject !== undefined) event.responseObject = objects.responseObject;
    Object.assign(annotations, objects.annotations);
    // As kube-apiserver does with the object it decoded: a create names its object in the body only.
    const name = objectName(objects.requestObject);
    if (event.objectRef !== undefined && event.objectRef.name === undefined && name !== undefined) event.objectRef.name = name;
  }
  if (Object.keys(annotations).length > 0) event.annotations = annotations;
  return event;
}

function objectName(object: unknown): string | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  const metadata = (object as { metadata?: unknown }).metadata;
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
