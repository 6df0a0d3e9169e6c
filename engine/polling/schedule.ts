/**
 * The scheduled invocation that starts a poll round (EventBridge Scheduler, engine/deploy/template.ts)
 * and how a round is spread: one job per user on the job queue, delayed so the users' polls are
 * spread over the interval and their vendor requests stay under the declared rate.
 */
export const POLL_TICK_SOURCE = "c2c.poll";
export const POLL_JOB = "c2c.poll-user";

/** The schedule's fixed input: `{"source":"c2c.poll"}`. */
export interface PollTick {
  source: typeof POLL_TICK_SOURCE;
}

export function isPollTick(event: unknown): event is PollTick {
  return typeof event === "object" && event !== null && (event as { source?: unknown }).source === POLL_TICK_SOURCE;
}

/** SQS DelaySeconds is at most 15 minutes. */
export const MAX_POLL_DELAY_MS = 15 * 60_000;

export interface RoundPlan {
  /** Delay of each user's poll, in roster order. */
  delaysMs: number[];
  /** True when the rate limit does not let every user be polled within the interval. */
  overruns: boolean;
}

/**
 * Users evenly over the interval, but never closer than the rate allows: a poll of one user
 * makes `requestsPerPoll` vendor requests, so polls are at least `requestsPerPoll / rpm` minutes
 * apart.
 */
export function planRound(users: number, intervalMinutes: number, requestsPerPoll: number, requestsPerMinute?: number): RoundPlan {
  const intervalMs = intervalMinutes * 60_000;
  const even = users > 0 ? intervalMs / users : 0;
  const minSpacing = requestsPerMinute ? (requestsPerPoll * 60_000) / requestsPerMinute : 0;
  const spacing = Math.max(even, minSpacing);
  const delaysMs = Array.from({ length: users }, (_, i) => Math.min(MAX_POLL_DELAY_MS, Math.floor(i * spacing)));
  return { delaysMs, overruns: users * minSpacing > intervalMs };
}
