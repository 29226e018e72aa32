// Which consumer objects a Secret or ConfigMap on the service cluster belongs to, read off the copies:
// a copy names its related objects (`related[].nameFrom`), so a change to `<kind> <namespace>/<name>`
// concerns the origins of the copies naming it. Built from the copies watch alone, so it only ever
// points into namespaces holding our copies.
import type { KubeObject } from '../kube/rest-client.ts';
import { originOf, readPath } from './copy-object.ts';
import type { RelatedResource } from './types.ts';

type Kind = RelatedResource['kind'];

const refKey = (kind: Kind, namespace: string, name: string) => `${kind} ${namespace}/${name}`;

export class RelatedIndex {
  readonly #rules: readonly RelatedResource[];
  /** Related object → copies (namespace/name) naming it. */
  readonly #copiesOf = new Map<string, Set<string>>();
  /** Copy → its origin and the related objects it names. */
  readonly #copies = new Map<string, { origin: string; refs: string[] }>();

  constructor(rules: readonly RelatedResource[]) {
    this.#rules = rules;
  }

  /** The copy changed, or went away (`copy` undefined). */
  update(copyKey: string, copy: KubeObject | undefined): void {
    const before = this.#copies.get(copyKey);
    for (const ref of before?.refs ?? []) {
      const copies = this.#copiesOf.get(ref);
      copies?.delete(copyKey);
      if (copies?.size === 0) this.#copiesOf.delete(ref);
    }
    this.#copies.delete(copyKey);
    const origin = copy === undefined ? undefined : originOf(copy);
    if (copy === undefined || origin === undefined) return;
    const refs: string[] = [];
    for (const rule of this.#rules) {
      const name = readPath(copy, rule.nameFrom);
      if (typeof name === 'string' && name !== '') refs.push(refKey(rule.kind, copy.metadata.namespace ?? '', name));
    }
    if (refs.length === 0) return;
    this.#copies.set(copyKey, { origin, refs });
    for (const ref of refs) {
      let copies = this.#copiesOf.get(ref);
      if (copies === undefined) this.#copiesOf.set(ref, (copies = new Set()));
      copies.add(copyKey);
    }
  }

  /** Origin keys of the consumer objects whose copies name this object. */
  owners(kind: Kind, namespace: string, name: string): string[] {
    const copies = this.#copiesOf.get(refKey(kind, namespace, name));
    if (copies === undefined) return [];
    return [...copies].map((c) => this.#copies.get(c)?.origin).filter((o): o is string => o !== undefined);
  }
}
