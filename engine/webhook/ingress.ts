/**
 * Vendor webhook ingress. Placeholder until the event runner lands: answers 501 so a delivery is
 * redelivered later rather than acknowledged and lost.
 */
import type { Engine, LambdaContextLike } from "../handler/engine.ts";
import { isHttpEvent, toHttpResponse } from "./http-event.ts";

export function createWebhookHandler(_engine: Engine): (event: unknown, context?: LambdaContextLike) => Promise<unknown> {
  return async (event) => {
    if (!isHttpEvent(event)) return { header: { responseCode: 400 }, payload: { responseMessage: "unrecognised event" } };
    return toHttpResponse(event, { status: 501, body: "webhook events are not handled yet" });
  };
}
