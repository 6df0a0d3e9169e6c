/**
 * How long an answer took on the engine's own time: the wall clock minus the time this process's
 * JavaScript thread was ready to run but waited for a CPU (the kernel's run-queue wait, from
 * /proc/self/schedstat). On a busy machine (CI's two cores, other suites) a handler that met its
 * budget can still answer late by the wall clock, because its timers fired late and its last
 * writes queued for a CPU; on Lambda the function has its CPU. Everything these tests run (the
 * engine, the vendor simulator, the MI and SQS emulators, dynalite) shares that one thread, so
 * what is left after the subtraction is the engine's work and its waits on timers and sockets:
 * what MI's 1.5 s is a bound on. Where schedstat is not available, the wall clock alone.
 */
import { readFileSync } from "node:fs";

/** Milliseconds this thread has waited on a run queue so far (0 where the kernel does not say). */
export function runQueueWaitMs(): number {
  try {
    // "<on-cpu ns> <run-queue wait ns> <timeslices>" for the main thread (the thread group leader).
    const fields = readFileSync("/proc/self/schedstat", "utf8").trim().split(/\s+/);
    const waitNs = Number(fields[1]);
    return Number.isFinite(waitNs) ? waitNs / 1e6 : 0;
  } catch {
    return 0;
  }
}

export interface Timed<T> {
  result: T;
  /** The wall clock's milliseconds. */
  wallMs: number;
  /** Of those, spent waiting for a CPU. */
  starvedMs: number;
  /** The engine's own time: wall minus starved. */
  ms: number;
}

/** Runs `fn` and measures it on the wall clock and on the engine's own time. */
export async function timedOnEngineTime<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const waitedBefore = runQueueWaitMs();
  const started = performance.now();
  const result = await fn();
  const wallMs = performance.now() - started;
  const starvedMs = Math.min(wallMs, Math.max(0, runQueueWaitMs() - waitedBefore));
  return { result, wallMs, starvedMs, ms: wallMs - starvedMs };
}
