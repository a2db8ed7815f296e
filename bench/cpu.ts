import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of the whole machine and of this process tree (the load generator and the
 * workerd it started), from /proc. The difference is what other processes took during
 * a measurement: on a shared 2-core machine that is the first thing to check before
 * trusting a figure. Linux only; elsewhere every reading is null.
 */
export type CpuSample = { at: number; machineBusy: number; ownTree: number };

/** Clock ticks per second of /proc's counters (USER_HZ, 100 on every Linux we run). */
const TICKS_PER_SECOND = 100;

function statFields(pid: string): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: split after it.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** utime + stime of this process and of every descendant alive now, in ticks. */
function ownTreeTicks(): number {
  const parents = new Map<string, string>();
  const ticks = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const fields = statFields(pid);
    if (!fields) continue;
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    parents.set(pid, fields[1] ?? "");
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  const self = String(process.pid);
  let total = 0;
  for (const [pid, value] of ticks) {
    for (let p: string | undefined = pid; p !== undefined && p !== "0" && p !== ""; p = parents.get(p)) {
      if (p === self) {
        total += value;
        break;
      }
    }
  }
  return total;
}

/** A reading now, or null where /proc is not there. */
export function sampleCpu(): CpuSample | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = values.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return { at: performance.now(), machineBusy: busy, ownTree: ownTreeTicks() };
  } catch {
    return null;
  }
}

/** Cores that processes outside this tree kept busy between two readings (null if unknown). */
export function otherCores(before: CpuSample | null, after: CpuSample | null): number | null {
  if (!before || !after) return null;
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return null;
  const others = after.machineBusy - before.machineBusy - (after.ownTree - before.ownTree);
  return Math.max(0, others / TICKS_PER_SECOND / seconds);
}

/** Cores this process tree (generator + workerd) kept busy between two readings. */
export function ownCores(before: CpuSample | null, after: CpuSample | null): number | null {
  if (!before || !after) return null;
  const seconds = (after.at - before.at) / 1000;
  return seconds <= 0 ? null : (after.ownTree - before.ownTree) / TICKS_PER_SECOND / seconds;
}

/**
 * Waits until other processes have used less than `maxOtherCores` for `quietMs` in a
 * row, or `timeoutMs` has passed. Returns the other processes' load when it stopped
 * waiting (null where /proc is missing).
 */
export async function waitForQuiet(
  maxOtherCores: number,
  quietMs: number,
  timeoutMs: number,
  onWait?: (otherCores: number) => void,
): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  let quietSince = performance.now();
  let last: number | null = null;
  let previous = sampleCpu();
  if (!previous) return null;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = sampleCpu();
    last = otherCores(previous, now);
    previous = now;
    if (last === null) return null;
    if (last > maxOtherCores) {
      quietSince = performance.now();
      onWait?.(last);
    } else if (performance.now() - quietSince >= quietMs) {
      return last;
    }
  }
  return last;
}
