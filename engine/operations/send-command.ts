/**
 * AWS.SendCommand: every Matter command of the request (standard commands, UpdateState 0xff01,
 * ReadState 0xff02) becomes the vendor request(s) its profile declares. The command is first
 * planned (engine/operations/command/planner.ts) and recorded in the state store, then executed
 * (command/executor.ts) by this attempt and, if the vendor is slow, by a deferred job resuming
 * the same plan: no vendor request is sent twice by accident. One DEVICE_COMMAND_RESPONSE per
 * endpoint follows with the request's TraceId, carrying attributes only where the vendor
 * confirmed the new state; devices the commands declare as `affects` get DEVICE_EVENTs. MI's
 * retries get the first attempt's answer (command/outcome.ts).
 */
import { ack, type ConnectorResponse, type SendCommandPayload } from "../mi/protocol.ts";
import type { MatterCluster } from "../mi/send-connector-event.ts";
import { formatClusterId } from "../matter/ids.ts";
import type { OperationEnv } from "./environment.ts";
import { keys } from "./keys.ts";
import { resolveUserId } from "./user-identity.ts";
import { executePlan, HandOffCommand, RetryCommand, type CommandOutcome, type ExecuteOptions } from "./command/executor.ts";
import { answerOnce, type Answer } from "./command/outcome.ts";
import { hadVendorEffect, loadPlan, savePlan, type CommandPlan } from "./command/plan.ts";
import { buildPlan } from "./command/planner.ts";
import { commandEntries, requestCommands, safeId } from "./command/request.ts";
import { reportSideEffects } from "./command/side-effects.ts";

export { HandOffCommand } from "./command/executor.ts";
export { coerce } from "./command/request.ts";
export type { CommandPlan } from "./command/plan.ts";

export interface SendCommandOptions {
  /** Sync path with a dispatcher: the rest of a plan the budget cannot finish goes to a job. */
  handOff?: (plan: CommandPlan | undefined, delayMs?: number) => Promise<void>;
  /** Schedules the read-back of commands the vendor only accepted (mapping `readBack`), through the job queue. */
  readBack?: (delayMs: number) => Promise<void>;
}

export async function sendCommand(env: OperationEnv, opts: SendCommandOptions = {}): Promise<ConnectorResponse> {
  const p = env.request.payload as SendCommandPayload;
  return answerOnce(
    env,
    keys.trace(p.connectorId, p.traceId),
    async (fresh) => {
      const stored = fresh ? undefined : await loadPlan(env.store, p.connectorId, p.traceId);
      try {
        const plan = stored ?? (await buildPlan(env, { canHandOff: !!opts.handOff }));
        await savePlan(env.store, p.connectorId, plan);
        return await finish(env, plan, { handOff: !!opts.handOff, retryTransient: false }, opts.readBack);
      } catch (err) {
        if (!(err instanceof HandOffCommand) || !opts.handOff) throw err;
        await opts.handOff(err.plan, err.delayMs);
        const why = err.delayMs !== undefined ? "the vendor quota is used up" : "the vendor is slow";
        return {
          response: ack(200, `Command ${p.traceId} accepted, ${why}: its result follows as an event`),
          final: true,
        };
      }
    },
    async () => {
      const plan = await loadPlan(env.store, p.connectorId, p.traceId);
      return !!plan && hadVendorEffect(plan);
    },
  );
}

/**
 * A deferred job resumes the plan: from the state store, or (a store that is not shared, such
 * as memory in another container) from the snapshot the job carries.
 */
export async function resumeCommand(env: OperationEnv, opts: { carried?: CommandPlan; retryTransient: boolean; readBack?: (delayMs: number) => Promise<void> }): Promise<void> {
  const p = env.request.payload as SendCommandPayload;
  const plan = (await loadPlan(env.store, p.connectorId, p.traceId)) ?? opts.carried ?? (await buildPlan(env));
  try {
    await finish(env, plan, { handOff: false, retryTransient: opts.retryTransient }, opts.readBack);
  } catch (err) {
    // The job's own retry (with backoff) handles it; the plan is saved with the step planned again.
    if (err instanceof RetryCommand) throw err.cause;
    throw err;
  }
}

/** Executes the plan, reports its outcome once, and gives the ACK it means. */
async function finish(env: OperationEnv, plan: CommandPlan, opts: ExecuteOptions, readBack?: (delayMs: number) => Promise<void>): Promise<Answer> {
  const p = env.request.payload as SendCommandPayload;
  const outcomes = await executePlan(env, plan, opts);
  const userId = await userIdOrUndefined(env);
  if (!plan.reported) {
    await publishResponses(env, outcomes, userId);
    plan.reported = true;
    await savePlan(env.store, p.connectorId, plan);
  }
  if (!plan.sideEffectsReported) {
    try {
      await reportSideEffects(env, plan, outcomes, userId);
    } catch (err) {
      // The command itself succeeded and was reported; a failed re-read leaves the others to the next event.
      env.logger.warn("side effects of the command could not be read", { error: err });
    }
    plan.sideEffectsReported = true;
    await savePlan(env.store, p.connectorId, plan);
  }
  // Recorded in the plan: MI's retries replay the answer, they do not schedule a second read-back.
  const readBackMs = Math.max(0, ...outcomes.filter((o) => o.status < 300).map((o) => o.readBackAfterMs ?? 0));
  if (readBackMs > 0 && !plan.readBackScheduled) {
    if (readBack) await readBack(readBackMs);
    else env.logger.warn("the command's read-back needs the job queue: the state follows with the next event or discovery");
    plan.readBackScheduled = true;
    await savePlan(env.store, p.connectorId, plan);
  }
  const failed = outcomes.filter((o) => o.status >= 300);
  if (outcomes.length && failed.length === outcomes.length) {
    const transientOnly = failed.every((o) => o.transient === true);
    return { response: ack(failed[0].status, failed[0].message ?? "command failed"), final: !transientOnly || hadVendorEffect(plan) };
  }
  return {
    response: ack(200, `Successfully received send-command request for connector ${p.connectorId} and connector-device-id ${p.connectorDeviceId}`),
    final: true,
  };
}

async function userIdOrUndefined(env: OperationEnv): Promise<string | undefined> {
  try {
    return await resolveUserId(env);
  } catch (err) {
    env.logger.warn("user id unknown for the command response", { error: err });
    return undefined;
  }
}

/** A DEVICE_COMMAND_RESPONSE for a command that failed as a whole (every command gets the status). */
export async function reportCommandFailure(env: OperationEnv, status: number, message: string): Promise<void> {
  const p = env.request.payload as SendCommandPayload;
  const outcomes = requestCommands(p).map((): CommandOutcome => ({ status, message, attributes: [], fields: {} }));
  await publishResponses(env, outcomes, await userIdOrUndefined(env));
}

/** One DEVICE_COMMAND_RESPONSE per endpoint; its StatusCode and Message are those of its first failure. */
async function publishResponses(env: OperationEnv, outcomes: CommandOutcome[], userId: string | undefined): Promise<void> {
  const p = env.request.payload as SendCommandPayload;
  let i = 0;
  for (const ep of p.endpoints) {
    const count = ep.clusters.reduce((n, c) => n + commandEntries(c).length, 0);
    const mine = outcomes.slice(i, i + count);
    i += count;
    const worst = mine.find((o) => o.status >= 300);
    await env.publisher.publish({
      ConnectorId: p.connectorId,
      Operation: "DEVICE_COMMAND_RESPONSE",
      OperationVersion: "1.0",
      TraceId: p.traceId,
      ConnectorDeviceId: p.connectorDeviceId,
      ...(userId ? { UserId: userId } : {}),
      StatusCode: worst ? worst.status : 200,
      ...(worst?.message ? { Message: worst.message } : {}),
      MatterEndpoint: { id: ep.id, clusters: clustersOf(p, ep.id, mine) },
    });
  }
}

function clustersOf(p: SendCommandPayload, endpointId: string, outcomes: CommandOutcome[]): MatterCluster[] {
  const ep = p.endpoints.find((e) => e.id === endpointId)!;
  const byCluster = new Map<string, MatterCluster>();
  let i = 0;
  for (const c of ep.clusters) {
    const hex = formatClusterId(safeId(c.id));
    const mc: MatterCluster = byCluster.get(hex) ?? { id: hex };
    byCluster.set(hex, mc);
    for (const [key] of commandEntries(c)) {
      const o = outcomes[i++];
      const entry: Record<string, unknown> = { ...o.fields, responseCode: o.status };
      if (o.status >= 300) entry.errors = { code: o.code ?? String(o.status), message: o.message ?? "failed" };
      mc.commands = { ...(mc.commands ?? {}), [key]: entry };
    }
  }
  for (const o of outcomes) {
    for (const a of o.attributes) {
      const mc = byCluster.get(a.cluster) ?? { id: a.cluster };
      byCluster.set(a.cluster, mc);
      mc.attributes = { ...((mc.attributes as Record<string, unknown>) ?? {}), [a.attribute]: a.value };
    }
  }
  return [...byCluster.values()];
}

