// POST …/namespaces/<ns>/serviceaccounts/<name>/token: the TokenRequest subresource behind
// `kubectl create token`. As kube-apiserver: the ServiceAccount must exist, audiences default to the
// issuer, the lifetime is at least ten minutes (an hour by default), and a token bound to a Secret or
// Pod names that object's uid, so it dies with it.
import { badRequest, notFound, SimError } from './errors.ts';
import type { ResourceRequest } from './handlers/context.ts';
import { parseJsonBody, readBody, sendJSON } from './http-io.ts';
import { now } from './shard-state.ts';
import type { BoundObject } from './service-account-tokens.ts';

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
}

export async function handleTokenRequest(r: ResourceRequest): Promise<void> {
  if (r.req.method !== 'POST') throw new SimError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  if (r.shard.serviceAccountSigner === undefined) throw notFound('serviceaccounts', r.name);
  const signer = await r.shard.serviceAccountSigner();
  const body = parseJsonBody(await readBody(r.req), r.req.headers['content-type'] ?? '') as { spec?: TokenRequestSpec } | undefined;
  const spec = body?.spec ?? {};
  const sa = r.shard.store.get(r.cluster, 'serviceaccounts', r.namespace, r.name);
  if (sa === undefined) throw notFound('serviceaccounts', r.name);
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) throw badRequest('spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes');
  const audiences = spec.audiences !== undefined && spec.audiences.length > 0 ? spec.audiences : [signer.issuer];
  const boundObject = spec.boundObjectRef == null ? undefined : boundObjectOf(r, spec.boundObjectRef);
  const { token, expiresAt } = await signer.mintBound({
    cluster: r.cluster,
    namespace: r.namespace,
    name: r.name,
    uid: sa.metadata.uid ?? '',
    audiences,
    expirationSeconds,
    ...(boundObject === undefined ? {} : { boundObject }),
  });
  sendJSON(r.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: r.name, namespace: r.namespace, creationTimestamp: now() },
    spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z') },
  });
}

function boundObjectOf(r: ResourceRequest, ref: NonNullable<TokenRequestSpec['boundObjectRef']>): BoundObject {
  if (ref.kind !== 'Secret' && ref.kind !== 'Pod') throw badRequest(`spec.boundObjectRef.kind: Unsupported value: "${ref.kind ?? ''}": supported values: "Pod", "Secret"`);
  const name = ref.name ?? '';
  const object = r.shard.store.get(r.cluster, ref.kind === 'Secret' ? 'secrets' : 'pods', r.namespace, name);
  if (object === undefined) throw notFound(ref.kind === 'Secret' ? 'secrets' : 'pods', name);
  const uid = object.metadata.uid ?? '';
  if (ref.uid !== undefined && ref.uid !== '' && ref.uid !== uid) {
    throw new SimError(
      409,
      'Conflict',
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  return { kind: ref.kind, name, uid };
}
