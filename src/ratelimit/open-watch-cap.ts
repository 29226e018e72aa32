// A bound on the watches one gateway process holds open, in total and per organisation: each costs
// memory here and a connection at a shard for as long as the client keeps it, and the rate policy's
// per-level slots do not bound the sum. In this process only, so it needs no round trip and holds
// when Redis is gone.

export interface OpenWatchLimits {
  /** Watches (and followed logs) open at once in this process; 0 = no bound. */
  maxOpen: number;
  /** The same for one organisation; 0 = no bound. */
  maxOpenPerOrg: number;
}

/** On by default: roughly what a 1 GiB pod holds (see config/gateway.yaml for the measurement). */
export const defaultOpenWatchLimits: Readonly<OpenWatchLimits> = Object.freeze({ maxOpen: 5000, maxOpenPerOrg: 2000 });

export type WatchCapScope = 'gateway' | 'org';

export type WatchAdmission = { admitted: true; release: () => void } | { admitted: false; scope: WatchCapScope };

export class OpenWatchCap {
  readonly limits: Readonly<OpenWatchLimits>;
  #open = 0;
  readonly #perOrg = new Map<string, number>();

  constructor(limits: Readonly<OpenWatchLimits>) {
    this.limits = limits;
  }

  get open(): number {
    return this.#open;
  }

  /** Takes a slot for a watch of `org` (undefined: a path outside any org), or says which bound refused it. */
  tryOpen(org: string | undefined): WatchAdmission {
    const { maxOpen, maxOpenPerOrg } = this.limits;
    if (maxOpen > 0 && this.#open >= maxOpen) return { admitted: false, scope: 'gateway' };
    const orgOpen = org === undefined ? 0 : (this.#perOrg.get(org) ?? 0);
    if (org !== undefined && maxOpenPerOrg > 0 && orgOpen >= maxOpenPerOrg) return { admitted: false, scope: 'org' };
    this.#open++;
    if (org !== undefined) this.#perOrg.set(org, orgOpen + 1);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        if (org === undefined) return;
        const left = (this.#perOrg.get(org) ?? 1) - 1;
        // Orgs come and go: an org with nothing open takes no entry.
        if (left === 0) this.#perOrg.delete(org);
        else this.#perOrg.set(org, left);
      },
    };
  }
}
