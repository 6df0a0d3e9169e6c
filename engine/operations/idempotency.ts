/**
 * At most once per MI request id (traceId, deviceDiscoveryId), across MI's retries.
 *
 * The id is claimed as "started" when the work begins and settled when the synchronous attempt
 * ends ("done"; work handed to a job counts as done). A retry finds the claim and is answered
 * without doing the work again. A claim still "started" after the function's longest possible
 * run belongs to an attempt that died (the container was lost): the retry takes it over, so the
 * request is not silently dropped. An attempt that fails with an unexpected error releases the
 * claim, since nothing was reported for it.
 */
import { ack, type ConnectorResponse } from "../mi/protocol.ts";
import type { OperationEnv } from "./environment.ts";
import { TTL } from "./keys.ts";

/** Longer than any synchronous attempt can run (the deployed function times out at 30 s). */
export const ABANDONED_AFTER_MS = 30_000;

interface Claim {
  state: "started" | "done";
  at: number;
}

export async function once(
  env: OperationEnv,
  key: string,
  duplicateMessage: string,
  run: () => Promise<ConnectorResponse>,
  isHandOff: (err: unknown) => boolean = () => false,
): Promise<ConnectorResponse> {
  const now = Date.now();
  const started: Claim = { state: "started", at: now };
  if (!(await env.store.putIfAbsent(key, started, TTL.idempotency))) {
    const claim = await env.store.get<Claim>(key);
    if (!(claim?.state === "started" && now - claim.at > ABANDONED_AFTER_MS)) {
      env.logger.info("duplicate request ignored", { operation: env.request.payload.operationName });
      return ack(200, duplicateMessage);
    }
    env.logger.warn("an earlier attempt of this request was abandoned; taking it over", { operation: env.request.payload.operationName });
    await env.store.put(key, started, TTL.idempotency);
  }
  const settle = () => env.store.put(key, { state: "done", at: Date.now() } satisfies Claim, TTL.idempotency);
  try {
    const response = await run();
    await settle();
    return response;
  } catch (err) {
    if (isHandOff(err)) await settle();
    else await env.store.delete(key);
    throw err;
  }
}
