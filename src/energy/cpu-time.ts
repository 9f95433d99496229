import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A source of CPU seconds consumed so far (user + system), for the estimate meter. */
export interface CpuTimeSource {
  /** What is counted, stored with estimates (e.g. `process`, `children`). */
  readonly name: string;
  /** CPU seconds consumed so far; only differences are meaningful. */
  cpuSeconds(): number;
}

/**
 * This process's CPU time from process.cpuUsage(): every thread of the process, worker threads
 * included, in microseconds.
 */
export const processCpuTime: CpuTimeSource = {
  name: 'process',
  cpuSeconds: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
};

let clockTicksPerS: number | undefined;

/** sysconf(_SC_CLK_TCK), the unit of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
export function clockTicksPerSecond(): number {
  if (clockTicksPerS === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      clockTicksPerS = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      clockTicksPerS = 100;
    }
  }
  return clockTicksPerS;
}

/** The four CPU-time fields of a /proc/<pid>/stat line, in clock ticks. */
export interface ProcStatTimes {
  /** Own user time. */
  utime: number;
  /** Own system time. */
  stime: number;
  /** User time of children that have exited and been waited for (and their waited-for descendants). */
  cutime: number;
  /** System time of the same children. */
  cstime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces
 * or parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStatTimes {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field n is rest[n - 3]: utime 14, stime 15, cutime 16, cstime 17.
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is not a number`);
    return v;
  };
  return { utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

/**
 * CPU time of this process's finished children, from cutime + cstime in /proc/self/stat. When Node
 * reaps a child (waitpid), the kernel adds the child's CPU time, and that of every descendant it
 * waited for, to these fields: the same figure wait4()'s rusage gives, which Node does not expose.
 * Read it before spawning and after the child's exit event; the difference is the child's CPU time.
 * Linux-only; resolution one clock tick (10 ms).
 */
export function childrenCpuTime(statPath = '/proc/self/stat', readText: (p: string) => string = (p) => readFileSync(p, 'utf8')): CpuTimeSource {
  return {
    name: 'children',
    cpuSeconds: () => {
      const t = parseProcStat(readText(statPath));
      return (t.cutime + t.cstime) / clockTicksPerSecond();
    },
  };
}

/** Whether /proc/self/stat can be read here (Linux); the children source needs it. */
export function procStatAvailable(): boolean {
  try {
    parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/**
 * CPU time of the calling thread only, for per-worker attribution: on Linux /proc/thread-self/stat
 * (Linux 3.17+) is the stat of whichever thread reads it, and synchronous fs calls run on the calling
 * JS thread, so a worker thread sees its own utime + stime (clock-tick resolution). Elsewhere it uses
 * process.threadCpuUsage() where Node has it (23.9+), else throws.
 */
export const threadCpuTime: CpuTimeSource = {
  name: 'thread',
  cpuSeconds: () => {
    try {
      const t = parseProcStat(readFileSync('/proc/thread-self/stat', 'utf8'));
      return (t.utime + t.stime) / clockTicksPerSecond();
    } catch (err) {
      const own = (process as unknown as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
      if (own) {
        const u = own.call(process);
        return (u.user + u.system) / 1e6;
      }
      throw new Error(`per-thread CPU time is unavailable here (${(err as Error).message})`);
    }
  },
};
