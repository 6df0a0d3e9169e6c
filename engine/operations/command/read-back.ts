/**
 * Confirmation by read-back (command mapping `readBack`): for vendors whose answer to a command
 * means "accepted", not "done", the device is read again after a delay, in a job of the job queue,
 * and what it reports goes to MI as a DEVICE_EVENT, through the same planner as webhook events:
 * the device's known profile, and only attributes whose value changed since MI last heard of
 * them. The command response itself carried none of those attributes (engine/operations/command/executor.ts).
 */
import type { Expr } from "../../mapping/compiled.ts";
import type { SendCommandPayload } from "../../mi/protocol.ts";
import { ChangeTracker } from "../../events/change-tracker.ts";
import { planDeviceEvents } from "../../events/device-events.ts";
import { KnownDevices } from "../../events/known-devices.ts";
import { baseContext, type OperationEnv } from "../environment.ts";
import { readDevice } from "../get-device.ts";

/** The device read as a whole is its state (shaped like the discovery device, as getDevice reads it). */
const WHOLE_DEVICE: Expr = { src: "$", at: "readBack" };

export interface ReadBackResult {
  sent: number;
  unchanged: number;
}

export async function readBackCommand(env: OperationEnv): Promise<ReadBackResult> {
  const p = env.request.payload as SendCommandPayload;
  const ctx = { ...baseContext(env), deviceId: p.connectorDeviceId };
  const device = await readDevice(env, ctx);
  if (device === undefined || device === null || typeof device !== "object") {
    env.logger.warn("read-back found no device state: nothing confirmed", { traceId: p.traceId });
    return { sent: 0, unchanged: 0 };
  }
  const known = new KnownDevices(env.store, p.connectorId);
  const tracker = new ChangeTracker(env.store);
  const plan = await planDeviceEvents({
    bundle: env.bundle,
    webhooks: { deviceId: WHOLE_DEVICE, state: WHOLE_DEVICE },
    evaluator: env.evaluator,
    tracker,
    connectorId: p.connectorId,
    body: device,
    event: device,
    logger: env.logger,
    known,
    deviceId: p.connectorDeviceId,
  });
  let sent = 0;
  let delivered = true;
  for (const planned of plan.events) {
    if (!(await env.publisher.publish(planned.input))) {
      delivered = false;
      continue;
    }
    sent++;
    for (const c of planned.commits) await tracker.commit(c.ref, c.value);
  }
  if (delivered && plan.known) await known.record(plan.deviceId, plan.known);
  env.logger.info("command read back", { traceId: p.traceId, events: sent, unchanged: plan.unchanged });
  return { sent, unchanged: plan.unchanged };
}
