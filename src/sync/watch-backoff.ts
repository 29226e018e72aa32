// How soon the sync worker's watches try again after a failure. The shared default caps at 30 s, which
// after an outage leaves a shard's or the service cluster's objects unsynced for up to 30 s more once it
// answers (up to 13 s after a 20 s outage): everything queued against that server waits for its watch to
// be back (resource-sync.ts retries the failed keys then). A retry is one list per watch, a handful per
// worker; a 5 s cap bounds that wait at 5 s for that cost, and the jitter still spreads the workers.
import type { BackoffPolicy } from '../kube/backoff.ts';

export const syncWatchBackoff: BackoffPolicy = Object.freeze({ baseMs: 100, capMs: 5_000, jitter: 0.5 });
