// CPU time spent by a process group (a proxy's master and workers), read from /proc.
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

/** User + system CPU seconds of every live process in the group. */
export async function groupCpuSeconds(pgid: number): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name may hold spaces and parentheses: fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
    ticks += Number(fields[11]) + Number(fields[12]); // fields 14, 15: utime, stime
  }
  return ticks / TICKS_PER_SECOND;
}

export async function cpuSeconds(pgids: number[]): Promise<number> {
  let total = 0;
  for (const pgid of pgids) total += await groupCpuSeconds(pgid);
  return total;
}
