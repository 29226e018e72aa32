// Org → realm. Realms follow the issuer template unless an override says otherwise; overrides come
// from the config file and, when the routing store is Redis, from Redis (which wins, field by field,
// so an operator can repoint one org without a deploy). Both sources can change at run time.
import { isOrgName, resolveRealm, type OrgRealmsSettings, type Realm, type RealmOverride } from './realm-settings.ts';

export type RealmChangeListener = () => void;

export class RealmRegistry {
  #settings: OrgRealmsSettings;
  #dynamic: ReadonlyMap<string, RealmOverride> = new Map();
  #realms = new Map<string, Realm>();
  #issuerPattern: RegExp;
  readonly #listeners = new Set<RealmChangeListener>();

  constructor(settings: OrgRealmsSettings) {
    this.#settings = settings;
    this.#issuerPattern = templatePattern(settings.issuerTemplate);
  }

  get settings(): OrgRealmsSettings {
    return this.#settings;
  }

  /** The realm of an org, or undefined when the name cannot be an org. */
  realmFor(org: string): Realm | undefined {
    const known = this.#realms.get(org);
    if (known !== undefined) return known;
    if (!isOrgName(org)) return undefined;
    const fileOverride = this.#settings.orgs[org];
    const dynamic = this.#dynamic.get(org);
    const realm = resolveRealm(this.#settings, org, { ...fileOverride, ...dynamic });
    this.#realms.set(org, realm);
    return realm;
  }

  /**
   * The org whose realm issues `iss`, if the issuer follows the template or an override names it.
   * Only used to say in the log "a token of org X" instead of "a wrong issuer".
   */
  orgOfIssuer(iss: string): string | undefined {
    const match = this.#issuerPattern.exec(iss);
    if (match?.[1] !== undefined && isOrgName(match[1])) return match[1];
    for (const [org, override] of [...Object.entries(this.#settings.orgs), ...this.#dynamic]) {
      if (override.issuer === iss) return org;
    }
    return undefined;
  }

  /** Hot reload of the gateway config. */
  setSettings(settings: OrgRealmsSettings): void {
    this.#settings = settings;
    this.#issuerPattern = templatePattern(settings.issuerTemplate);
    this.#changed();
  }

  /** The overrides kept in Redis, replaced as a whole on every change there. */
  setDynamicOverrides(overrides: ReadonlyMap<string, RealmOverride>): void {
    this.#dynamic = overrides;
    this.#changed();
  }

  onChange(listener: RealmChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#realms = new Map();
    for (const listener of this.#listeners) listener();
  }
}

function templatePattern(template: string): RegExp {
  const [before, ...after] = template.split('{org}');
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (after.length === 0) return /(?!)/;
  return new RegExp(`^${escape(before ?? '')}([^/]+)${escape(after.join('{org}'))}$`);
}
