// A tiny reconcile queue: keys are reconciled one at a time per key, retried with backoff on failure, and
// forgotten when the shard stops. Controllers in the stand-in react to store events through it.

export interface ReconcileQueue {
  enqueue(key: string, delayMs?: number): void;
  stop(): void;
}

export function reconcileQueue(reconcile: (key: string) => Promise<'done' | 'retry'>): ReconcileQueue {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<string>();
  const again = new Set<string>();
  const attempts = new Map<string, number>();
  let stopped = false;

  const run = async (key: string): Promise<void> => {
    if (stopped) return;
    if (running.has(key)) {
      again.add(key);
      return;
    }
    running.add(key);
    let outcome: 'done' | 'retry' = 'retry';
    try {
      outcome = await reconcile(key);
    } catch {
      outcome = 'retry';
    } finally {
      running.delete(key);
    }
    if (stopped) return;
    if (again.delete(key)) {
      enqueue(key);
    } else if (outcome === 'retry') {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (n <= 40) enqueue(key, Math.min(25 * 2 ** Math.min(n, 5), 500));
    } else {
      attempts.delete(key);
    }
  };

  function enqueue(key: string, delayMs = 0): void {
    if (stopped || timers.has(key)) return;
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void run(key);
      }, delayMs),
    );
  }

  return {
    enqueue,
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
