import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of /proc's CPU times. */
const TICKS_PER_SECOND = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped. */
  readonly ticks: number;
}

const readStat = (pid: string): ProcStat | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    return { ppid: fields[1] as number, ticks: (fields[11] as number) + (fields[12] as number) + (fields[13] as number) + (fields[14] as number) };
  } catch {
    return undefined;
  }
};

/**
 * CPU time (user and system, in ms) a process and every process below it have used so far,
 * from /proc: a server's own cost, whatever its workers, apart from the load generator's on the
 * same cores. Undefined where there is no /proc.
 */
export const processTreeCpuMs = (root: number): number | undefined => {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>();
  for (const pid of entries) {
    const stat = readStat(pid);
    if (stat) stats.set(Number(pid), stat);
  }
  if (!stats.has(root)) return undefined;
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  let ticks = 0;
  for (const pending = [root]; pending.length > 0; ) {
    const pid = pending.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return (ticks / TICKS_PER_SECOND) * 1000;
};
