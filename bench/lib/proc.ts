// A process as the kernel sees it (/proc/<pid>): memory and CPU time, main thread and workers together.
import { readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU seconds so far. On a shared machine this moves less with other load than wall time does. */
export function cpuSecondsOf(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** Resident set and its high-water mark, bytes (NaN when the kernel does not say). */
export function memoryOf(pid: number | 'self'): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Restarts the high-water mark at the current RSS (clear_refs 5), so a phase reports its own peak; false if refused. */
export function resetPeakOf(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds the whole machine has been busy (all cores; idle and iowait excluded). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

/**
 * Cores' worth of CPU that processes other than `pids` used between `start()` and `stop()`: the
 * machine is shared, and a phase slowed by someone else's job shows here instead of as a mystery.
 */
export function otherLoad(pids: (number | 'self')[]): { stop(wallS: number): number } {
  // A process that has exited counts as 0 (the service is gone by the last raw run).
  const cpu = (pid: number | 'self') => {
    try {
      return cpuSecondsOf(pid);
    } catch {
      return 0;
    }
  };
  const mine = () => pids.reduce<number>((sum, pid) => sum + cpu(pid), 0);
  const machine0 = machineBusySeconds();
  const mine0 = mine();
  return { stop: (wallS) => (machineBusySeconds() - machine0 - (mine() - mine0)) / wallS };
}
