/**
 * Vendor webhook ingress: an HTTP event (Lambda function URL, API Gateway HTTP API v2 or REST v1)
 * -> handshake answer, or verified delivery -> DEVICE_EVENTs (engine/events). The HTTP answer
 * tells the vendor whether to redeliver:
 *  - 2xx only when every event of the delivery reached MI (or was deliberately dropped);
 *  - 401 when verification fails (logged with its code and reason, never the secret);
 *  - 400 for a body that cannot be parsed; 415 for a body not sent as JSON in which the mapping
 *    finds no events (a wrong content type would otherwise drop them); 500 when the connector is
 *    misconfigured;
 *  - 503 when MI did not take an event after the client's retries: the vendor redelivers, and
 *    event-id deduplication makes sure nothing is sent twice. With an event buffer (mapping
 *    `webhooks.buffer`), or else the engine's durable outbox (the SQS job queue), such events are
 *    queued instead and the answer is 200; 503 only when the queue fails too;
 *  - 503 with Retry-After when the delivery does not fit in its time budget (`budgetMs`, bounded by
 *    the Lambda's remaining time): the events handled so far stay done, the redelivery sends the rest.
 *
 * Environment: C2C_CONNECTOR_ID (required: DEVICE_EVENTs name the connector, and no inbound
 * request carries it here) plus whatever variables the mapping's `verify` and `buffer` name
 * (engine/events/buffer.ts for the buffer's).
 */
import type { Engine, LambdaContextLike } from "../handler/engine.ts";
import type { CompiledWebhooks } from "../mapping/compiled.ts";
import { ack } from "../mi/protocol.ts";
import { EventPublisher } from "../operations/publisher.ts";
import { bindings } from "../runtime/context.ts";
import { runDelivery } from "../events/delivery.ts";
import { sqsEventBufferFromEnv, type EventBuffer } from "../events/buffer.ts";
import { mediaType, parseBody, WebhookBodyError } from "./envelope.ts";
import { isHttpEvent, toHttpResponse, toWebhookRequest, type HttpResponseSpec, type WebhookRequest } from "./http-event.ts";
import { verifyOptionsFor, WebhookSecretSource } from "./secret-source.ts";
import { DeliveryAuthenticator, refusalStatus } from "./authenticate.ts";
import { keys, TTL } from "../operations/keys.ts";
import { Deadline } from "../runtime/deadline.ts";
import { callConfirmationUrl } from "./handshake.ts";
import { withLogContext } from "../log/context.ts";
import { countMetric, Metric } from "../metrics/recorder.ts";
import { randomUUID } from "node:crypto";

export const CONNECTOR_ID_ENV = "C2C_CONNECTOR_ID";
/**
 * How long a delivery may take before it is answered. Vendors wait 5-30 s for a webhook answer
 * (Google Pub/Sub push: 10 s by default); 5 s leaves the slowest of them room to spare.
 */
export const DEFAULT_WEBHOOK_BUDGET_MS = 5000;
/** Kept back from the budget to write queued events and answer once the budget is used up. */
export const WEBHOOK_RESERVE_MS = 300;
/**
 * Requests to MI end this much before the delivery's deadline: when MI is slow, the events left
 * can still go to the buffer (planning them costs a few store reads each) instead of being refused.
 */
export const WEBHOOK_BUFFERING_RESERVE_MS = 500;

export interface WebhookHandlerOptions {
  /** Where C2C_CONNECTOR_ID and webhook secrets are read; default process.env (read per delivery). */
  env?: Record<string, string | undefined>;
  secrets?: WebhookSecretSource;
  /** Clock for replay windows and leases (tests). */
  now?: () => number;
  /** How long a claimed event id blocks concurrent redeliveries. Default 60 s. */
  leaseMs?: number;
  /** Replaces the SQS buffer the mapping declares (`webhooks.buffer`); ignored when it declares none. */
  buffer?: EventBuffer;
  /** Key caches for HTTP message signatures and bearer tokens (tests shorten the JWKS cooldown). */
  authenticator?: DeliveryAuthenticator;
  /** Time a delivery may take, further bounded by the Lambda's remaining time. Default DEFAULT_WEBHOOK_BUDGET_MS. */
  budgetMs?: number;
  /** HTTP client for confirmation handshakes (`handshakes[].confirm`); default global fetch. */
  fetch?: typeof fetch;
}

export type WebhookHandler = (event: unknown, context?: LambdaContextLike) => Promise<unknown>;

export function createWebhookHandler(engine: Engine, options: WebhookHandlerOptions = {}): WebhookHandler {
  const deps = engine.deps;
  const logger = deps.logger.child({ source: "webhook" });
  const env = () => options.env ?? process.env;
  const secrets = options.secrets ?? new WebhookSecretSource({ env: options.env, secrets: deps.logger.secretRegistry });
  // No deferral fallback: an event MI does not take goes to the delivery's buffer (which records
  // its claim and tracked values) or fails the delivery; it is never acknowledged and dropped.
  const publisher = new EventPublisher(deps.sink, deps.store, logger);
  const now = options.now ?? Date.now;
  const bufferSpec = deps.bundle.webhooks?.buffer;
  // The mapping's own buffer, else the outbox when it is durable, else none (the vendor redelivers).
  const buffer = bufferSpec ? (options.buffer ?? sqsEventBufferFromEnv(bufferSpec.queueUrlEnv, env)) : engine.webhookOutbox();
  const authenticator = options.authenticator ?? new DeliveryAuthenticator();

  return async (event, context) => {
    if (!isHttpEvent(event)) return ack(400, "event is neither a managed integrations request nor a webhook delivery");
    // A delivery's lines carry its own id (Lambda's request id) and, per vendor event, the event's ids.
    return withLogContext({ operation: "webhook", deliveryId: context?.awsRequestId ?? randomUUID() }, () => engine.traced("webhook", () => deliver(event, context)));
  };

  async function deliver(event: Parameters<typeof toHttpResponse>[0], context: LambdaContextLike | undefined): Promise<unknown> {
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: (options.budgetMs ?? DEFAULT_WEBHOOK_BUDGET_MS) - WEBHOOK_RESERVE_MS }, now);
    const answer = (spec: HttpResponseSpec) => {
      // Every refusal is counted by status: a spike of 401s is a wrong secret or an attack, of 503s MI trouble.
      if (spec.status >= 400) countMetric(Metric.WebhookRejections, 1, { status: String(spec.status) });
      return toHttpResponse(event, spec);
    };
    const webhooks = deps.bundle.webhooks;
    if (!webhooks) return answer(text(404, "this connector accepts no webhooks"));
    try {
      return answer(await handleDelivery(toWebhookRequest(event), webhooks, deadline));
    } catch (err) {
      logger.error("webhook delivery failed", { error: err });
      return answer(text(500, "internal error"));
    }
  }

  async function handleDelivery(req: WebhookRequest, webhooks: CompiledWebhooks, deadline: Deadline): Promise<HttpResponseSpec> {
    let body: unknown;
    let bodyError: WebhookBodyError | undefined;
    try {
      body = parseBody(req);
    } catch (err) {
      if (!(err instanceof WebhookBodyError)) throw err;
      bodyError = err;
    }

    let verified = false;
    const verify = async (): Promise<HttpResponseSpec | undefined> => {
      if (verified) return undefined;
      let opts;
      try {
        opts = await verifyOptionsFor(webhooks.verify, secrets);
      } catch (err) {
        // The check cannot run: refuse (the vendor retries later) and say what is missing.
        logger.error("webhook verification is misconfigured", { error: err });
        return text(500, "webhook verification is not configured");
      }
      const result = await authenticator.verify(req, opts, now());
      if (!result.ok) {
        logger.warn("webhook delivery failed verification", { code: result.code, reason: result.reason, path: req.path });
        return refusalStatus(result) === 503 ? text(503, "verification unavailable") : text(401, "verification failed");
      }
      if (replayKey && (await deps.store.get(replayKey)) !== undefined) {
        logger.warn("webhook delivery failed verification", { code: "replayed", reason: "this signature was already accepted once", path: req.path });
        return text(401, "verification failed");
      }
      verified = true;
      return undefined;
    };
    // HTTP message signatures are made per delivery attempt: one already acknowledged is a replay.
    // It is recorded only after a 2xx, so a redelivery of a delivery answered 5xx still goes through.
    const signatureValue = webhooks.verify.scheme === "httpSignature" ? (req.headers["signature"] ?? req.headers["authorization"]) : undefined;
    const replayKey = signatureValue ? keys.acceptedSignature(signatureValue) : undefined;
    const remember = async (spec: HttpResponseSpec): Promise<HttpResponseSpec> => {
      if (replayKey && verified && spec.status >= 200 && spec.status < 300) {
        await deps.store.put(replayKey, { at: now() }, Math.max(TTL.acceptedSignature, 2 * (webhooks.verify.toleranceSeconds ?? 300))).catch((err: unknown) => logger.warn("accepted signature not recorded", { error: err }));
      }
      return spec;
    };

    const handshakeInput = { request: { method: req.method, path: req.path, headers: req.headers, query: req.query }, body };
    for (const h of webhooks.handshakes) {
      if ((await engine.evaluator.evaluate(h.when, handshakeInput, bindings({ settings: deps.bundle.settings, responses: {}, body }))) !== true) continue;
      if (h.verify) {
        const refused = await verify();
        if (refused) return refused;
      }
      if (h.confirm) {
        const url = await engine.evaluator.evaluate(h.confirm.url, handshakeInput, bindings({ settings: deps.bundle.settings, responses: {}, body }));
        // The call is bounded by the delivery's own budget too: the answer must reach the sender.
        const confirmed = await callConfirmationUrl(url, { ...h.confirm, timeoutMs: Math.max(1, Math.min(h.confirm.timeoutMs, deadline.remainingMs())) }, options.fetch);
        if (!confirmed.ok) {
          // The URL itself may carry a one-time token: only its host is logged.
          const level = confirmed.code === "failed" ? "error" : "warn";
          logger[level]("webhook handshake confirmation not made", { code: confirmed.code, host: confirmed.host, reason: confirmed.reason });
          if (confirmed.code === "refused") return text(403, "confirmation URL refused");
          if (confirmed.code === "no_url") return text(400, "confirmation URL missing");
          return text(502, "confirmation failed; retry later");
        }
        logger.info("webhook handshake confirmed", { host: confirmed.host, status: confirmed.status });
      }
      logger.info("webhook handshake answered", { status: h.respond.status });
      if (!h.respond.body) return remember({ status: h.respond.status });
      const out = await engine.evaluator.evaluate(h.respond.body, handshakeInput, bindings({ settings: deps.bundle.settings, responses: {}, body }));
      if (out === undefined) return remember({ status: h.respond.status });
      return remember(typeof out === "string" ? text(h.respond.status, out) : json(h.respond.status, out));
    }

    const refused = await verify();
    if (refused) return refused;
    if (bodyError) {
      logger.warn("webhook body could not be parsed", { code: bodyError.code, reason: bodyError.message });
      return text(400, `unreadable body: ${bodyError.message}`);
    }
    const connectorId = env()[CONNECTOR_ID_ENV]?.trim();
    if (!connectorId) {
      logger.error(`${CONNECTOR_ID_ENV} is not set: device events cannot be addressed`);
      return text(500, "connector id is not configured");
    }
    const result = await runDelivery(
      { bundle: deps.bundle, webhooks, evaluator: engine.evaluator, store: deps.store, publisher: publisher.within(deadline.child(deadline.remainingMs() - WEBHOOK_BUFFERING_RESERVE_MS)), logger, connectorId, leaseMs: options.leaseMs, now, buffer, deadline },
      body,
    );
    if (result.counts.received === 0 && body !== undefined && !readAsJson(req, body)) {
      // A body the mapping could not read as JSON (wrong or missing content type) yields no events:
      // acknowledging it would drop them for good, since the vendor does not redeliver a 2xx.
      const type = mediaType(req) || "no content type";
      logger.warn("webhook body yielded no events: not JSON", { contentType: type });
      return text(415, `no events found in a body sent as ${type}; the connector reads application/json`);
    }
    if (result.outcome === "retry") {
      logger.warn("webhook delivery not acknowledged: the vendor should redeliver", { reason: result.reason, ...result.counts });
      const spec = json(503, { status: "retry", reason: result.reason });
      if (result.retryAfterSeconds !== undefined) spec.headers = { ...spec.headers, "retry-after": String(result.retryAfterSeconds) };
      return spec;
    }
    return remember(json(200, { status: "ok", ...result.counts }));
  }
}

/** Whether the body was read as JSON (declared, or looking like it), rather than as text or a form. */
function readAsJson(req: WebhookRequest, body: unknown): boolean {
  return typeof body !== "string" && mediaType(req) !== "application/x-www-form-urlencoded";
}

function text(status: number, body: string): HttpResponseSpec {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

function json(status: number, body: unknown): HttpResponseSpec {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
