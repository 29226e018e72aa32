// create (POST), update (PUT), patch (all four types) and delete / deletecollection.
import { serverSideApply } from '../apply.ts';
import { badRequest, notFound, SimError } from '../errors.ts';
import { objectMediaType, parseJsonBody, readBody, sendJSON, sendStoredObject } from '../http-io.ts';
import { checkFields, fieldValidationOf } from '../field-validation.ts';
import { managerName, recordUpdate } from '../managed-fields.ts';
import { createObject, deleteObject, typeMeta, updateObject, type DeleteOptions } from '../objects.ts';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from '../patch.ts';
import { queryBool } from '../query-params.ts';
import { patchMetaFor } from '../schemas/patch-meta.ts';
import { grOf } from '../shard-state.ts';
import type { KubeObject } from '../types.ts';
import { dryRun, type ResourceRequest } from './context.ts';
import { matchingObjects } from './read.ts';
import { recordOwner } from '../rbac/workspace-owner.ts';
import { answerReview } from '../reviews.ts';

function asObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request was not a JSON object');
  const object = body as KubeObject;
  if (object.metadata === undefined || object.metadata === null || typeof object.metadata !== 'object') object.metadata = {};
  return object;
}

function checkKind(r: ResourceRequest, object: KubeObject): void {
  if (object.kind !== undefined && object.kind !== r.type.kind) {
    throw badRequest(
      `the API version in the data (${object.apiVersion ?? ''}) does not match the expected API version (${r.type.group === '' ? r.type.version : `${r.type.group}/${r.type.version}`})`,
    );
  }
}

function requireCluster(r: ResourceRequest): void {
  if (r.cluster === '*') throw new SimError(400, 'BadRequest', 'a wildcard cluster can only be listed or watched');
  if (!r.visible(r.cluster)) throw notFound(r.type.resource, r.name, r.type.group);
}

/** Unknown fields: a 400 under fieldValidation=Strict, Warning headers under Warn (the default). */
function validateFields(r: ResourceRequest, object: unknown): void {
  const warnings = checkFields(r.type, object, fieldValidationOf(r.query));
  if (warnings.length > 0) r.res.setHeader('Warning', warnings);
}

function manager(r: ResourceRequest): string {
  return managerName(r.query.get('fieldManager'), r.req.headers['user-agent']);
}

export async function handleCreate(r: ResourceRequest): Promise<void> {
  requireCluster(r);
  const body = asObject(parseJsonBody(await readBody(r.req), objectMediaType(r.req.headers['content-type'])));
  if (r.type.ephemeral === true) {
    sendJSON(r.res, 201, answerReview(r.shard, r.cluster, r.type, body, r.identity));
    return;
  }
  checkKind(r, body);
  validateFields(r, body);
  const input = typeMeta(r.type, body);
  if (r.type.group === 'tenancy.kcp.io' && r.type.resource === 'workspaces') recordOwner(input, r.identity);
  recordUpdate(undefined, input, manager(r), '');
  const created = createObject(r.shard, r.cluster, r.type, input, r.namespace, { dryRun: dryRun(r.query), handOver: true });
  sendStoredObject(r.res, 201, r.present(r.cluster, created));
}

export async function handleUpdate(r: ResourceRequest): Promise<void> {
  requireCluster(r);
  const body = asObject(parseJsonBody(await readBody(r.req), objectMediaType(r.req.headers['content-type'])));
  checkKind(r, body);
  validateFields(r, body);
  const live = r.shard.store.get(r.cluster, grOf(r.type), r.namespace, r.name);
  const input = typeMeta(r.type, body);
  if (live !== undefined) {
    input.metadata.managedFields = live.metadata.managedFields;
    recordUpdate(live, input, manager(r), r.subresource);
  }
  const updated = updateObject(r.shard, r.cluster, r.type, input, r.namespace, r.name, { subresource: r.subresource, dryRun: dryRun(r.query), handOver: true });
  sendStoredObject(r.res, 200, r.present(r.cluster, updated));
}

export async function handlePatch(r: ResourceRequest): Promise<void> {
  requireCluster(r);
  const contentType = (r.req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const text = await readBody(r.req);
  const live = r.shard.store.get(r.cluster, grOf(r.type), r.namespace, r.name);
  // The patched object is built from a copy of the live one and the parsed body: ours to hand over.
  const options = { subresource: r.subresource, dryRun: dryRun(r.query), handOver: true };

  if (contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+json') {
    const applied = typeMeta(r.type, asObject(parseJsonBody(text, 'yaml')));
    if (applied.metadata.name !== undefined && applied.metadata.name !== r.name) {
      throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${r.name})`);
    }
    validateFields(r, applied);
    applied.metadata.name = r.name;
    if (r.query.get('fieldManager') === null)
      throw new SimError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = queryBool(r.query, 'force');
    const next = serverSideApply({ live, applied, manager: manager(r), force, subresource: r.subresource });
    if (live === undefined) {
      if (r.subresource !== '') throw notFound(r.type.resource, r.name, r.type.group);
      const created = createObject(r.shard, r.cluster, r.type, next, r.namespace, options);
      sendStoredObject(r.res, 201, r.present(r.cluster, created));
      return;
    }
    const updated = updateObject(r.shard, r.cluster, r.type, next, r.namespace, r.name, options);
    sendStoredObject(r.res, 200, r.present(r.cluster, updated));
    return;
  }

  const known = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
  if (!known.includes(contentType)) {
    throw new SimError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${known.join(', ')}, application/apply-patch+yaml`,
    );
  }
  if (live === undefined) throw notFound(r.type.resource, r.name, r.type.group);
  const patch = parseJsonBody(text, 'json') as Json;
  let patched: Json;
  switch (contentType) {
    case 'application/json-patch+json':
      patched = jsonPatch(live as unknown as Json, patch);
      break;
    case 'application/merge-patch+json':
      patched = mergePatch(live as unknown as Json, patch);
      break;
    case 'application/strategic-merge-patch+json':
    default:
      if (r.type.boundFrom !== undefined) {
        throw new SimError(415, 'UnsupportedMediaType', `strategic merge patch is not supported for ${r.type.kind}: use merge or json patch`);
      }
      patched = strategicMergePatch(live as unknown as Json, patch, patchMetaFor(r.type));
  }
  const next = asObject(patched);
  validateFields(r, next);
  next.metadata.managedFields = live.metadata.managedFields;
  recordUpdate(live, next, manager(r), r.subresource);
  const updated = updateObject(r.shard, r.cluster, r.type, next, r.namespace, r.name, options);
  sendStoredObject(r.res, 200, r.present(r.cluster, updated));
}

async function deleteOptions(r: ResourceRequest): Promise<DeleteOptions> {
  const body = parseJsonBody(await readBody(r.req), 'json') as { dryRun?: string[]; preconditions?: DeleteOptions['preconditions'] } | undefined;
  return { dryRun: dryRun(r.query) || (body?.dryRun ?? []).includes('All'), preconditions: body?.preconditions };
}

export async function handleDelete(r: ResourceRequest): Promise<void> {
  requireCluster(r);
  const options = await deleteOptions(r);
  const result = deleteObject(r.shard, r.cluster, r.type, r.namespace, r.name, options);
  const stillThere = r.shard.store.get(r.cluster, grOf(r.type), r.namespace, r.name) !== undefined && options.dryRun !== true;
  if (stillThere) {
    // Finalizers hold it: kube answers 202 with the object carrying its deletionTimestamp.
    sendJSON(r.res, 202, r.present(r.cluster, result));
    return;
  }
  sendJSON(r.res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: r.name, group: r.type.group === '' ? undefined : r.type.group, kind: r.type.resource, uid: result.metadata.uid },
  });
}

export async function handleDeleteCollection(r: ResourceRequest): Promise<void> {
  requireCluster(r);
  const options = await deleteOptions(r);
  const deleted: KubeObject[] = [];
  for (const object of matchingObjects(r)) {
    deleted.push(deleteObject(r.shard, r.cluster, r.type, object.metadata.namespace ?? '', object.metadata.name ?? '', options));
  }
  sendJSON(r.res, 200, {
    kind: `${r.type.kind}List`,
    apiVersion: r.type.group === '' ? r.type.version : `${r.type.group}/${r.type.version}`,
    metadata: { resourceVersion: String(r.shard.store.currentRV()) },
    items: deleted,
  });
}
