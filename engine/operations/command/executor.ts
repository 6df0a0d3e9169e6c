/**
 * Execution of a CommandPlan, the same for the synchronous attempt and for a deferred job. Each
 * request's state is recorded before it is sent and after its answer, so an execution that stops
 * (hand-off, crash) is resumed without sending anything twice:
 * - succeeded / failed steps are not sent again; their recorded answer is used;
 * - a step that was sent but whose answer was lost (unknown) is confirmed by the command's
 *   `verify` read where declared (the read waits until the request's timeout has passed), else
 *   re-sent once if its call is declared `idempotent`, else reported 504: never repeated blindly.
 */
import type { SendCommandPayload } from "../../mi/protocol.ts";
import type { CompiledAction, CompiledCall, Expr } from "../../mapping/compiled.ts";
import { formatAttributeId } from "../../matter/ids.ts";
import { bindings, type EvalContext } from "../../runtime/context.ts";
import { readCluster } from "../../runtime/device-model.ts";
import { admitValue } from "../../runtime/matter-values.ts";
import { VendorError } from "../../vendor/types.ts";
import type { OperationEnv } from "../environment.ts";
import { errorToStatus, isTransient, safeMessage } from "../errors.ts";
import { savePlan, type CommandPlan, type PlanStep } from "./plan.ts";
import { readDevice } from "./planner.ts";
import { HandOffCommand } from "./hand-off.ts";
import { partDefinition, safeId } from "./request.ts";

export interface CommandOutcome {
  status: number;
  message?: string;
  /** Failed before any vendor effect, with a failure a later attempt may not meet again. */
  transient?: boolean;
  /** Matter status name of a refusal ("CONSTRAINT_ERROR"), for the response's `errors.code`. */
  code?: string;
  attributes: Array<{ cluster: string; attribute: string; value: unknown }>;
  fields: Record<string, unknown>;
  /** The vendor only accepted the command: its state is read back after this many ms (mapping `readBack`). */
  readBackAfterMs?: number;
}

export interface ExecuteOptions {
  /**
   * Synchronous attempt with a dispatcher: a request whose answer is late, or that no longer
   * fits in the budget, hands the rest of the plan to a deferred job.
   */
  handOff: boolean;
  /** A job with attempts left: a transient failure (no vendor effect) is retried by the job. */
  retryTransient: boolean;
  /** Waits (verify reads after the request's timeout); injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export { HandOffCommand } from "./hand-off.ts";

/** A transient failure inside a job with attempts left: the job is retried, the step is planned again. */
export class RetryCommand extends Error {
  constructor(readonly cause: unknown) {
    super("command retried later");
    this.name = "RetryCommand";
  }
}

/** Time kept back on the synchronous path for reporting and handing off. */
export const HANDOFF_RESERVE_MS = 300;

export const UNKNOWN_OUTCOME_MESSAGE =
  "vendor did not answer in time: the request may have been carried out; it is not repeated (the mapping declares neither verify nor idempotent)";

export async function executePlan(env: OperationEnv, plan: CommandPlan, opts: ExecuteOptions): Promise<CommandOutcome[]> {
  const connectorId = (env.request.payload as SendCommandPayload).connectorId;
  const save = () => savePlan(env.store, connectorId, plan);
  const responses: Record<string, unknown> = {};
  const outcomes: CommandOutcome[] = [];
  for (const pc of plan.commands) {
    const outcome: CommandOutcome = { status: 200, attributes: [], fields: {} };
    outcomes.push(outcome);
    const failure = pc.failure ?? plan.failure;
    if (failure) {
      Object.assign(outcome, { status: failure.status, message: failure.message, transient: failure.transient, ...("code" in failure && failure.code ? { code: failure.code } : {}) });
      continue;
    }
    try {
      for (const part of pc.parts) {
        const def = partDefinition(env, plan, pc, part, responses);
        if (part.kind === "read") {
          await readState(env, def.ctx, def.cluster, pc.fields, plan.device, outcome);
          continue;
        }
        for (const index of part.steps) {
          const step = plan.steps[index];
          const call = def.action!.requests[step.owner.request];
          await settle(env, plan, step, call, () => checksOf(env, plan, index, responses), def.ctx, opts, save);
          if (step.state === "failed") throw new StepFailed(step.error!);
          if (step.state === "unknown") throw new StepFailed({ status: 504, message: UNKNOWN_OUTCOME_MESSAGE, transient: false });
          def.ctx.response = step.response?.body;
          def.ctx.status = step.response?.status;
          def.ctx.headers = step.response?.headers;
          if (step.response) responses[step.name] = step.response.body;
        }
        if (def.action!.readBack && (await readsBack(env, def.action!.readBack, def.ctx))) {
          // "Accepted" is not "done": no attribute is claimed now; the read-back reports what the device did.
          outcome.readBackAfterMs = Math.max(outcome.readBackAfterMs ?? 0, def.action!.readBack.afterMs);
          await confirm(env, def.ctx, def.endpoint, def.cluster, { ...def.action!, confirms: [] }, outcome);
          continue;
        }
        await confirm(env, def.ctx, def.endpoint, def.cluster, def.action!, outcome);
        if (part.kind === "write") {
          // A successful write confirms the written value unless the mapping confirmed it otherwise.
          const attr = def.cluster.attributes.find((a) => a.id === part.attributeId)!;
          if (!outcome.attributes.some((a) => a.cluster === def.cluster.hexId && a.attribute === attr.hexId)) {
            outcome.attributes.push({ cluster: def.cluster.hexId, attribute: attr.hexId, value: def.ctx.value });
          }
        }
      }
    } catch (err) {
      if (err instanceof HandOffCommand || err instanceof RetryCommand) throw err;
      const f = err instanceof StepFailed ? err.failure : { status: errorToStatus(err, env.bundle), message: safeMessage(err), transient: false };
      Object.assign(outcome, { status: f.status, message: f.message, transient: f.transient, attributes: [], fields: {} });
      env.logger.warn("command failed", { command: pc.key, cluster: pc.clusterRef, status: f.status, error: err instanceof StepFailed ? undefined : err });
    }
  }
  return outcomes;
}

/** How to confirm a step: the verify of every part it carries (several when batched), with their contexts. */
type Checks = Array<{ verify?: Expr; ctx: EvalContext }>;

function checksOf(env: OperationEnv, plan: CommandPlan, index: number, responses: Record<string, unknown>): Checks {
  const out: Checks = [];
  for (const pc of plan.commands) {
    for (const part of pc.parts) {
      if (!part.steps.includes(index)) continue;
      const def = partDefinition(env, plan, pc, part, responses);
      out.push({ verify: def.action?.verify, ctx: def.ctx });
    }
  }
  return out;
}

class StepFailed extends Error {
  constructor(readonly failure: { status: number; message: string; transient: boolean }) {
    super(failure.message);
  }
}

/** Brings a step to succeeded, failed or unknown (given up), recording every change. */
async function settle(
  env: OperationEnv,
  plan: CommandPlan,
  step: PlanStep,
  call: CompiledCall,
  checks: () => Checks,
  ctx: EvalContext,
  opts: ExecuteOptions,
  save: () => Promise<void>,
): Promise<void> {
  for (;;) {
    if (step.state === "succeeded" || step.state === "failed" || (step.state === "unknown" && step.givenUp)) return;
    if (step.state === "sent" || step.state === "unknown") {
      // An earlier execution sent it and never learnt the answer.
      step.state = "unknown";
      if (opts.handOff) {
        await save();
        throw new HandOffCommand(plan);
      }
      await resolveUnknown(env, plan, step, checks(), opts, save);
      continue;
    }
    // planned
    if (opts.handOff && env.deadline.remainingMs() < HANDOFF_RESERVE_MS) {
      await save();
      throw new HandOffCommand(plan);
    }
    if (!step.request) {
      const { auth: _auth, ...request } = await env.calls.buildSpec(call, ctx, undefined, { storable: true });
      step.request = request;
    }
    step.state = "sent";
    step.sentAt = Date.now();
    await save();
    try {
      const res = await env.calls.send(call, ctx, step.request, env.deadline);
      step.response = { status: res.status, headers: res.headers, body: res.body };
      try {
        await env.calls.checkSuccess(call, ctx, res);
        step.state = "succeeded";
      } catch (err) {
        step.state = "failed";
        step.error = { status: errorToStatus(err, env.bundle), message: safeMessage(err), transient: false };
      }
      await save();
    } catch (err) {
      if (err instanceof VendorError && (err.kind === "timeout" || err.kind === "deadline") && err.attempts > 0) {
        step.state = "unknown";
        await save();
        env.logger.warn("vendor answer lost after the request was sent", { label: step.name, kind: err.kind });
        continue;
      }
      // No vendor effect: not sent (budget), refused with an HTTP error, or unreachable.
      const transient = isTransient(err, env.bundle);
      if (transient && opts.retryTransient) {
        step.state = "planned";
        await save();
        throw new RetryCommand(err);
      }
      if (opts.handOff && err instanceof VendorError && err.kind === "deadline") {
        step.state = "planned";
        await save();
        throw new HandOffCommand(plan);
      }
      if (opts.handOff && err instanceof VendorError && err.kind === "quota") {
        // Not sent: a quota is used up. The job sends it when the quota has room.
        step.state = "planned";
        await save();
        throw new HandOffCommand(plan, err.retryAfterMs);
      }
      step.state = "failed";
      step.error = { status: errorToStatus(err, env.bundle), message: safeMessage(err), transient };
      await save();
    }
  }
}

/**
 * verify read (after the request's own timeout; a batched request needs the verify of every
 * command it carries), else one re-send of an idempotent call, else give up.
 */
async function resolveUnknown(env: OperationEnv, plan: CommandPlan, step: PlanStep, checks: Checks, opts: ExecuteOptions, save: () => Promise<void>): Promise<void> {
  if (checks.length && checks.every((c) => c.verify) && env.bundle.operations.getDevice) {
    const settledAt = (step.sentAt ?? 0) + (step.request?.timeoutMs ?? 0);
    const wait = Math.min(settledAt - Date.now(), env.deadline.remainingMs() - HANDOFF_RESERVE_MS);
    if (wait > 0) await (opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(wait);
    let took = true;
    try {
      const now = await readDevice(env, checks[0].ctx);
      for (const c of checks) {
        const ok = await env.evaluator.evaluate(c.verify!, now, bindings({ ...c.ctx, before: plan.device, device: now } as EvalContext));
        took &&= ok === true;
      }
    } catch (err) {
      if (opts.retryTransient && isTransient(err, env.bundle)) throw new RetryCommand(err);
      env.logger.warn("the read confirming a command failed", { label: step.name, error: err });
      step.givenUp = true;
      await save();
      return;
    }
    if (took) {
      step.state = "succeeded";
      env.logger.info("lost answer confirmed by reading the device", { label: step.name });
    } else if (step.resends < 1) {
      // The read shows the vendor did not carry the request out: it is sent once more.
      step.state = "planned";
      step.resends++;
    } else step.givenUp = true;
    await save();
    return;
  }
  if (step.idempotent && step.resends < 1) {
    step.state = "planned";
    step.resends++;
  } else step.givenUp = true;
  await save();
}

/** Whether the vendor's answer only accepted the command (`readBack.when`; without it, every answer does). */
async function readsBack(env: OperationEnv, readBack: NonNullable<CompiledAction["readBack"]>, ctx: EvalContext): Promise<boolean> {
  if (readBack.when === undefined) return true;
  return (await env.evaluator.evaluate(readBack.when, ctx, bindings(ctx))) === true;
}

async function confirm(
  env: OperationEnv,
  ctx: EvalContext,
  endpoint: ReturnType<typeof partDefinition>["endpoint"],
  cluster: ReturnType<typeof partDefinition>["cluster"],
  action: CompiledAction,
  outcome: CommandOutcome,
): Promise<void> {
  for (const c of action.confirms) {
    const v = await env.evaluator.evaluate(c.expr, ctx, bindings(ctx));
    const target = endpoint.clusters.find((x) => x.id === c.clusterId) ?? cluster;
    const attr = target.attributes.find((a) => a.id === c.attributeId);
    if (!admitValue(c.valueType, v, c.expr.at, `${target.name}.${attr?.name ?? formatAttributeId(c.attributeId)}`, env.logger)) continue;
    const entry = { cluster: target.hexId, attribute: attr?.hexId ?? formatAttributeId(c.attributeId), value: v };
    const at = outcome.attributes.findIndex((a) => a.cluster === entry.cluster && a.attribute === entry.attribute);
    if (at >= 0) outcome.attributes[at] = entry;
    else outcome.attributes.push(entry);
  }
  for (const f of action.responseFields) {
    const v = await env.evaluator.evaluate(f.expr, ctx, bindings(ctx));
    if (admitValue(f.valueType, v, f.expr.at, `${cluster.name} response field ${f.hexId}`, env.logger)) outcome.fields[f.hexId] = v;
  }
}

async function readState(
  env: OperationEnv,
  ctx: EvalContext,
  cluster: ReturnType<typeof partDefinition>["cluster"],
  fields: Record<string, unknown>,
  device: unknown,
  outcome: CommandOutcome,
): Promise<void> {
  if (device === undefined) throw new StepFailed({ status: 501, message: "ReadState needs operations.getDevice in the mapping", transient: false });
  const ids = Object.keys(fields).filter((k) => k !== "*");
  const only = ids.length ? new Set(ids.map(safeId)) : undefined;
  const values = await readCluster(cluster, device, env.evaluator, ctx, only, env.logger);
  for (const [attribute, value] of values) outcome.attributes.push({ cluster: cluster.hexId, attribute, value });
}
