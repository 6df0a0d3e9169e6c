/**
 * Answering MI's requests: a request is checked against MI's model, given its ACK budget (MI waits
 * 2 s), and dispatched to its operation (engine/operations); work that does not fit the budget is
 * handed off. Every failure becomes an ACK with the right status, never a throw.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { ack, type ConnectorRequest, type ConnectorResponse, type SendCommandPayload } from "../mi/protocol.ts";
import { validateMiRequest } from "../validation/validators.ts";
import { Deadline } from "../runtime/deadline.ts";
import type { RedactingLogger } from "../log/json-logger.ts";
import { withLogContext, type CorrelationIds } from "../log/context.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { activateUser } from "../operations/activate-user.ts";
import { deactivateUser } from "../operations/deactivate-user.ts";
import { discoverDevices } from "../operations/discover-devices.ts";
import { sendCommand } from "../operations/send-command.ts";
import { errorToStatus, safeMessage } from "../operations/errors.ts";
import { commandCount, limitsOf } from "../operations/limits.ts";
import type { PollingService } from "../polling/polling-service.ts";
import type { OperationEnvironments } from "./operation-environment.ts";
import type { HandOffs } from "./hand-offs.ts";

export const DEFAULT_ACK_BUDGET_MS = 1500;
/**
 * Kept back from the operation's budget for what follows it before the ACK: writing a hand-off
 * (state store + queue) or an outbox entry when the vendor or MI used the budget up.
 */
export const ACK_RESERVE_MS = 300;

/** What answering needs of the engine. */
export interface MiRequestParts {
  bundle: CompiledBundle;
  logger: RedactingLogger;
  environments: OperationEnvironments;
  /** Where work that does not fit before the ACK goes; undefined: operations run to the end. */
  handOffs?: HandOffs;
  polling?: PollingService;
  /** The ACK budget (default 1500 ms). */
  ackBudgetMs?: number;
  /** Called before each request's work (the dispatcher's connections warm up meanwhile). */
  prepare?: () => void;
  traced<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export class MiRequests {
  constructor(private readonly parts: MiRequestParts) {}

  /** An MI request (or something shaped like one): its ACK. */
  async handle(event: unknown, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }): Promise<ConnectorResponse> {
    const checked = validateMiRequest(event);
    if (!checked.ok) {
      const first = checked.errors.slice(0, 3).map((e) => `${e.path} ${e.message}`).join("; ");
      this.parts.logger.warn("malformed MI request", { problems: checked.errors.length });
      return ack(400, `malformed request: ${first}`);
    }
    const request = event as ConnectorRequest;
    return withLogContext(correlationIdsOf(request), () => this.parts.traced(request.payload.operationName, () => this.answer(request, context)));
  }

  private async answer(request: ConnectorRequest, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }): Promise<ConnectorResponse> {
    const p = this.parts;
    p.prepare?.();
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: (p.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS) - ACK_RESERVE_MS });
    const logger = p.logger.child({ operation: request.payload.operationName, requestId: context?.awsRequestId });
    const started = Date.now();
    try {
      const env = await p.environments.build(request, deadline, logger);
      const response = await this.dispatch(env);
      if (p.polling && response.header.responseCode >= 200 && response.header.responseCode < 300) await p.polling.noteAnswered(env, response);
      // One line per invocation at info; vendor calls and events are logged at debug.
      logger.info("operation answered", { responseCode: response.header.responseCode, durationMs: Date.now() - started });
      return response;
    } catch (err) {
      const status = errorToStatus(err, p.bundle);
      logger.error("operation failed", { error: err, status });
      return ack(status, `${request.payload.operationName} failed: ${safeMessage(err)}`);
    }
  }

  private async dispatch(env: OperationEnv): Promise<ConnectorResponse> {
    const payload = env.request.payload;
    const handOffs = this.parts.handOffs;
    switch (payload.operationName) {
      case "AWS.ActivateUser":
        return activateUser(env);
      case "AWS.DeactivateUser":
        return deactivateUser(env);
      case "AWS.DiscoverDevices":
        return discoverDevices(env, handOffs ? { handOff: (progress, delayMs) => handOffs.handOff(env.request, progress, undefined, delayMs) } : {});
      case "AWS.SendCommand": {
        const max = limitsOf(this.parts.bundle).commandsPerRequest;
        const count = commandCount(payload as SendCommandPayload);
        if (count > max) {
          env.logger.warn("SendCommand over the command limit refused", { commands: count, limit: max });
          return ack(400, `SendCommand carries ${count} commands; at most ${max} per request (api.limits.commandsPerRequest)`);
        }
        return sendCommand(env, handOffs ? { handOff: (plan, delayMs) => handOffs.handOff(env.request, undefined, plan, delayMs), readBack: (delayMs) => handOffs.scheduleReadBack(env.request, delayMs) } : {});
      }
    }
  }
}

/** The ids MI gave this request, for every log line of its work (engine/log/context.ts); never its token or user. */
export function correlationIdsOf(request: ConnectorRequest): CorrelationIds {
  const p = request.payload as Partial<Record<"traceId" | "deviceDiscoveryId" | "connectorDeviceId", unknown>> & { operationName: string };
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return { operation: p.operationName, traceId: str(p.traceId), deviceDiscoveryId: str(p.deviceDiscoveryId), connectorDeviceId: str(p.connectorDeviceId) };
}

/** An MI request's shape (validated later), as opposed to a webhook delivery's HTTP event. */
export function isMiRequestShaped(event: unknown): boolean {
  return !!event && typeof event === "object" && ("payload" in event || "header" in event) && !("requestContext" in event) && !("httpMethod" in event);
}
