/**
 * Milliseconds on the machine's monotonic clock, which every process on the machine shares.
 *
 * A time stamped in one process and read in another has to be: `performance.timeOrigin` is the wall
 * clock read once at each process's start, so a clock step between two starts (a VM synchronising its
 * clock) shows up as a constant offset between them, 9 s in one bench run.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
