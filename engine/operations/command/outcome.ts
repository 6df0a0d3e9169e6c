/**
 * One answer per MI request (same traceId), across MI's retries, in the manner of Powertools
 * Idempotency: the first attempt's ACK is stored with whether it is final, and a retry gets it
 * again. The rule:
 * - final (replayed): any success; any failure after the vendor may have acted (a request
 *   succeeded, or was sent and its answer lost); any failure a retry would meet again (4xx,
 *   unknown device, unsupported command, mapping error);
 * - not final (re-executed, with a fresh plan): a failure before any vendor effect that may
 *   pass (vendor 5xx, 429, unreachable, time budget used up before sending).
 * A retry arriving while the first attempt still runs waits for its answer within the budget.
 * A claim left "started" longer than the function can run belongs to an attempt that died: the
 * retry takes it over and resumes its plan.
 */
import { ack, type ConnectorResponse } from "../../mi/protocol.ts";
import type { OperationEnv } from "../environment.ts";
import { TTL } from "../keys.ts";
import { ABANDONED_AFTER_MS } from "../idempotency.ts";

export interface TraceRecord {
  state: "started" | "done";
  at: number;
  /** Executions of this request so far (a non-final failure is executed again). */
  attempt: number;
  ack?: { code: number; message: string };
  final?: boolean;
}

export interface Answer {
  response: ConnectorResponse;
  final: boolean;
}

/** `fresh`: plan anew (first execution, or re-execution of a non-final failure); else resume. */
export type Execute = (fresh: boolean) => Promise<Answer>;

const POLL_MS = 50;
const KEEP_BACK_MS = 200;

export async function answerOnce(env: OperationEnv, key: string, execute: Execute, hadEffect: () => Promise<boolean>): Promise<ConnectorResponse> {
  if (await env.store.putIfAbsent(key, started(1), TTL.idempotency)) return run(env, key, 1, true, execute, hadEffect);
  for (;;) {
    const rec = await env.store.get<TraceRecord>(key);
    if (!rec) {
      if (await env.store.putIfAbsent(key, started(1), TTL.idempotency)) return run(env, key, 1, true, execute, hadEffect);
      continue;
    }
    const attempt = rec.attempt ?? 1;
    if (rec.state === "done") {
      if (!rec.ack) return ack(200, "Command was already received");
      if (rec.final !== false) {
        env.logger.info("retried request answered with the first attempt's outcome", { responseCode: rec.ack.code });
        return ack(rec.ack.code, rec.ack.message);
      }
      // Failed before any vendor effect: executed again, by exactly one of concurrent retries.
      if (await env.store.putIfAbsent(`${key}#${attempt + 1}`, 1, TTL.idempotency)) {
        env.logger.info("retried request failed before any vendor effect; executing it again", { attempt: attempt + 1 });
        await env.store.put(key, started(attempt + 1), TTL.idempotency);
        return run(env, key, attempt + 1, true, execute, hadEffect);
      }
    } else if (Date.now() - rec.at > ABANDONED_AFTER_MS) {
      env.logger.warn("an earlier attempt of this request was abandoned; taking it over", { operation: env.request.payload.operationName });
      await env.store.put(key, started(attempt), TTL.idempotency);
      return run(env, key, attempt, false, execute, hadEffect);
    }
    if (env.deadline.remainingMs() < KEEP_BACK_MS + POLL_MS) {
      return ack(200, "Command was already received and is still being carried out: its result follows as an event");
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function started(attempt: number): TraceRecord {
  return { state: "started", at: Date.now(), attempt };
}

async function run(env: OperationEnv, key: string, attempt: number, fresh: boolean, execute: Execute, hadEffect: () => Promise<boolean>): Promise<ConnectorResponse> {
  let answer: Answer;
  try {
    answer = await execute(fresh);
  } catch (err) {
    // Nothing was answered: without a vendor effect the retry may execute it again; with one, it
    // gets this failure.
    if (await hadEffect()) {
      await env.store.put(key, { state: "done", at: Date.now(), attempt, ack: { code: 500, message: "SendCommand failed: internal error" }, final: true } satisfies TraceRecord, TTL.idempotency);
    } else await env.store.delete(key);
    throw err;
  }
  const { code, message } = { code: answer.response.header.responseCode, message: answer.response.payload?.responseMessage ?? "" };
  await env.store.put(key, { state: "done", at: Date.now(), attempt, ack: { code, message }, final: answer.final } satisfies TraceRecord, TTL.idempotency);
  return answer.response;
}
