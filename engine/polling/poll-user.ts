/**
 * One user's poll: the devices read as discovery reads them, with the user's last credential;
 * each device the user discovered is compared with its known state (engine/events/known-devices.ts)
 * and what changed goes to MI as DEVICE_EVENTs, through the same planner as webhook events, so a
 * value reported once is not reported again by the next poll. A rejected or expired credential
 * takes the user off the roster: no further poll uses it.
 */
import type { CompiledPolling } from "../mapping/compiled.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";
import type { Logger } from "../log/logger.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { baseContext } from "../operations/environment.ts";
import { errorToStatus } from "../operations/errors.ts";
import { keys } from "../operations/keys.ts";
import { bindings } from "../runtime/context.ts";
import { requireReadableBody } from "../vendor/unusable.ts";
import { ChangeTracker } from "../events/change-tracker.ts";
import { planDeviceEvents } from "../events/device-events.ts";
import { KnownDevices } from "../events/known-devices.ts";
import type { PollCredentials } from "./credentials.ts";
import type { PollRoster } from "./roster.ts";

export interface PollDeps {
  polling: CompiledPolling;
  credentials: PollCredentials;
  roster: PollRoster;
  /** The operation environment for a request (credentials, account values, call runner). */
  environment(request: ConnectorRequest): Promise<OperationEnv>;
  logger: Logger;
  now: () => number;
}

export interface PollResult {
  outcome: "polled" | "stopped";
  devices: number;
  sent: number;
  reason?: string;
}

export async function pollUser(deps: PollDeps, userId: string): Promise<PollResult> {
  const { logger } = deps;
  const stop = async (reason: string): Promise<PollResult> => {
    await deps.credentials.forget(userId);
    await deps.roster.remove(userId);
    logger.info("polling stopped for the user", { reason });
    return { outcome: "stopped", devices: 0, sent: 0, reason };
  };
  const found = await deps.credentials.get(userId);
  if ("missing" in found) return stop(found.missing === "expired" ? "the credential expired" : "no usable credential");
  const { credential } = found;

  // A synthetic discovery request: the poll reads exactly what discovery would, nothing more.
  const request: ConnectorRequest = {
    header: { auth: credential.auth },
    payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: credential.connectorId, deviceDiscoveryId: `poll${deps.now()}` },
  };
  let env: OperationEnv;
  try {
    env = await deps.environment(request);
    if ((await env.store.get(keys.deactivated(userId))) !== undefined) return stop("the user was deactivated");
    return await readAndReport(deps, env, userId, credential.connectorId);
  } catch (err) {
    const status = errorToStatus(err, undefined);
    if (status === 401 || status === 403) return stop("the vendor rejected the credential");
    throw err;
  }
}

async function readAndReport(deps: PollDeps, env: OperationEnv, userId: string, connectorId: string): Promise<PollResult> {
  const d = env.bundle.operations.discoverDevices;
  const ctx = baseContext(env);
  await env.calls.runAll(d.requests, ctx, env.deadline);
  const page = await env.vendor.call(await env.calls.buildSpec(d.list, ctx), env.deadline);
  requireReadableBody(page, d.list.name);
  const items = await env.evaluator.evaluate(d.devices, page.body, bindings({ ...ctx, response: page.body }));
  const list = items === undefined ? [] : Array.isArray(items) ? items : [items];

  const known = new KnownDevices(env.store, connectorId);
  const tracker = new ChangeTracker(env.store);
  const result: PollResult = { outcome: "polled", devices: 0, sent: 0 };
  for (const item of list) {
    const idValue = await env.evaluator.evaluate(deps.polling.deviceId, item, bindings({ ...ctx, device: item }));
    if (idValue === undefined || idValue === null || idValue === "") continue;
    // Only devices this user discovered: MI knows no other, and another user's are not theirs to report.
    const record = await known.get(String(idValue));
    if (record?.userId !== userId) continue;
    result.devices++;
    const plan = await planDeviceEvents({
      bundle: env.bundle,
      webhooks: { deviceId: deps.polling.deviceId, state: deps.polling.state },
      evaluator: env.evaluator,
      tracker,
      connectorId,
      body: page.body,
      event: item,
      logger: env.logger,
      known,
      at: deps.now(),
    });
    let delivered = true;
    for (const planned of plan.events) {
      // Deactivation is checked before each send; what MI does not take now goes to the outbox.
      if (!(await env.publisher.publish(planned.input))) {
        delivered = false;
        continue;
      }
      result.sent++;
      for (const c of planned.commits) await tracker.commit(c.ref, c.value);
    }
    if (delivered && plan.known) await known.record(plan.deviceId, plan.known);
  }
  deps.logger.info("user polled", { devices: result.devices, events: result.sent });
  return result;
}
