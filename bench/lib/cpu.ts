/**
 * CPU time per process while a figure runs, read from /proc (Linux; elsewhere every reading is
 * empty): the bench's own Node process (client, API and worker when they run in it), the Temporal
 * server, and PostgreSQL (every process named `postgres`: the server's backends, ours and the
 * production engine's). A backend that exits between the two readings takes its time with it, so
 * the PostgreSQL figure is a lower bound (the pools here keep their connections open).
 */
import { readdirSync, readFileSync } from 'node:fs';

export type CpuParts = Record<string, number>;

/** What a meter gives when it ends. */
export interface CpuUse {
  cpu_ms_per_op: CpuParts;
  cores: CpuParts;
}

/** user + system CPU seconds of one process, or 0 when it cannot be read */
function cpuSecondsOf(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command (which may hold spaces) in parentheses: utime and stime are the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on every Linux this runs on (what `getconf CLK_TCK` prints) */
const CLOCK_TICKS = 100;

function postgresSeconds(): number {
  let total = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSecondsOf(pid);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function reading(temporalPid: number | undefined): CpuParts {
  return {
    node: cpuSecondsOf(process.pid),
    ...(temporalPid ? { temporal: cpuSecondsOf(temporalPid) } : {}),
    postgres: postgresSeconds(),
  };
}

/**
 * Start measuring; the returned function ends it and gives each part's CPU in milliseconds per
 * operation (`ops` operations ran in between) — and `cores`, how many cores' worth each used.
 */
export function cpuMeter(temporalPid: number | undefined): (ops: number) => CpuUse {
  const before = reading(temporalPid);
  const started = process.hrtime.bigint();
  return (ops) => {
    const after = reading(temporalPid);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const perOp: CpuParts = {};
    const cores: CpuParts = {};
    for (const [part, s] of Object.entries(after)) {
      const used = s - (before[part] ?? 0);
      perOp[part] = Math.round((used * 1000 * 10) / ops) / 10;
      cores[part] = Math.round((used / seconds) * 100) / 100;
    }
    return { cpu_ms_per_op: perOp, cores };
  };
}
