// What classify() decided for a request of one shape, kept so the steady state (the same user asking
// the same kind of thing in the same workspace) does not match flow schemas, encode a flow key and
// build a plan again on every request. A lookup walks nested maps keyed by the strings the request
// already carries, so a hit allocates nothing. Bounded, and emptied when the policy object changes
// (a reload swaps it), so nothing decided under an old policy outlives it.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import type { RateLimitPolicy } from './policy.ts';
import type { LimitContext } from './types.ts';

/**
 * The last map level. The key path holds user, workspace, verb, API group, resource (or the path of
 * a non-resource request) and subresource; what is not in the path is checked here: the groups
 * (compared by content, so an identity object changed or made afresh per request still hits only
 * when it means the same), the org, and resource-ness. `hasLimit` changes the cost of a list only,
 * so a list has one value per answer.
 */
interface Leaf<T> {
  groups: readonly string[];
  org: string | undefined;
  isResourceRequest: boolean;
  value: T | undefined;
  pagedList: T | undefined;
}

type Level<V> = Map<string, V>;
type BySubresource<T> = Level<Leaf<T>>;
type ByResource<T> = Level<BySubresource<T>>;
type ByGroup<T> = Level<ByResource<T>>;
type ByVerb<T> = Level<ByGroup<T>>;
/** An absent workspace is its own key: a rule on workspaces never matches it, while '' may. */
type ByWorkspace<T> = Map<string | undefined, ByVerb<T>>;

export type FlowBuilder<T> = (policy: RateLimitPolicy, identity: Identity, attrs: RequestAttributes, context: LimitContext) => T;

/** Distinct request shapes kept before the cache starts over; a few hundred bytes each. */
export const defaultFlowCacheEntries = 8192;

/**
 * Longest request shape (verb, group, resource or non-resource path, subresource) that is kept: the
 * client chooses these strings, and a full cache of long ones would hold megabytes. Real API paths
 * are far shorter; a longer one is classified afresh.
 */
export const maxCachedShapeLength = 512;

export class FlowCache<T> {
  readonly #build: FlowBuilder<T>;
  readonly #maxEntries: number;
  #policy: RateLimitPolicy | undefined = undefined;
  #byUser = new Map<string, ByWorkspace<T>>();
  #entries = 0;

  constructor(build: FlowBuilder<T>, maxEntries = defaultFlowCacheEntries) {
    this.#build = build;
    this.#maxEntries = maxEntries;
  }

  /** Values held (one per request shape and list paging); for tests. */
  get size(): number {
    return this.#entries;
  }

  get(policy: RateLimitPolicy, identity: Identity, attrs: RequestAttributes, context: LimitContext): T {
    if (policy !== this.#policy) {
      this.#clear();
      this.#policy = policy;
    }
    if (shapeLength(attrs) > maxCachedShapeLength) return this.#build(policy, identity, attrs, context);
    const leaf = this.#leaf(identity, attrs, context);
    const paged = attrs.verb === 'list' && attrs.hasLimit;
    const held = paged ? leaf.pagedList : leaf.value;
    if (held !== undefined) return held;
    // Counted before it is stored: a cache at its bound starts over rather than grow.
    if (this.#entries >= this.#maxEntries) {
      this.#clear();
      return this.#leafValue(this.#leaf(identity, attrs, context), paged, policy, identity, attrs, context);
    }
    return this.#leafValue(leaf, paged, policy, identity, attrs, context);
  }

  #leafValue(leaf: Leaf<T>, paged: boolean, policy: RateLimitPolicy, identity: Identity, attrs: RequestAttributes, context: LimitContext): T {
    const value = this.#build(policy, identity, attrs, context);
    if (paged) leaf.pagedList = value;
    else leaf.value = value;
    this.#entries += 1;
    return value;
  }

  #leaf(identity: Identity, attrs: RequestAttributes, context: LimitContext): Leaf<T> {
    const byWorkspace = child(this.#byUser, identity.user, newMap);
    const byVerb = child(byWorkspace, context.workspace, newMap);
    const byGroup = child(byVerb, attrs.verb, newMap);
    const byResource = child(byGroup, attrs.apiGroup, newMap);
    // A non-resource request is told apart by its path; a resource request's path names the object, which no rule reads.
    const bySubresource = child(byResource, attrs.isResourceRequest ? attrs.resource : attrs.path, newMap);
    let leaf = bySubresource.get(attrs.subresource);
    if (leaf === undefined) {
      leaf = { groups: kept(identity.groups), org: context.org, isResourceRequest: attrs.isResourceRequest, value: undefined, pagedList: undefined };
      bySubresource.set(attrs.subresource, leaf);
    } else if (leaf.org !== context.org || leaf.isResourceRequest !== attrs.isResourceRequest || !sameGroups(leaf.groups, identity.groups)) {
      // Same key path, different request: this shape replaces the one held.
      this.#entries -= (leaf.value === undefined ? 0 : 1) + (leaf.pagedList === undefined ? 0 : 1);
      leaf.groups = kept(identity.groups);
      leaf.org = context.org;
      leaf.isResourceRequest = attrs.isResourceRequest;
      leaf.value = undefined;
      leaf.pagedList = undefined;
    }
    return leaf;
  }

  #clear(): void {
    this.#byUser = new Map();
    this.#entries = 0;
  }
}

function shapeLength(attrs: RequestAttributes): number {
  return attrs.verb.length + attrs.apiGroup.length + (attrs.isResourceRequest ? attrs.resource.length : attrs.path.length) + attrs.subresource.length;
}

function newMap<K, V>(): Map<K, V> {
  return new Map<K, V>();
}

function child<K, V>(map: Map<K, V>, key: K, make: () => NoInfer<V>): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

/** A frozen list (what the token caches hand out) is kept as is and compares by reference; any other is copied. */
function kept(groups: readonly string[]): readonly string[] {
  return Object.isFrozen(groups) ? groups : [...groups];
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
