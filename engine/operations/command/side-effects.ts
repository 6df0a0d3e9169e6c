/**
 * Declared side effects: a command whose vendor action changes other devices too (a room's
 * lights, a scene, a home-wide mode) names them with `affects`, an expression over the account's
 * devices. After the command succeeded the devices are listed again (operations.discoverDevices,
 * the same listing discovery uses, so their state is fresh and in the shape the profiles read)
 * and each affected device gets a DEVICE_EVENT per endpoint with its new state.
 */
import type { SendCommandPayload } from "../../mi/protocol.ts";
import type { MatterCluster } from "../../mi/send-connector-event.ts";
import { bindings, type EvalContext } from "../../runtime/context.ts";
import { endpointsOf, matchProfile, readCluster } from "../../runtime/device-model.ts";
import type { VendorResponse } from "../../vendor/types.ts";
import type { OperationEnv } from "../environment.ts";
import type { CommandOutcome } from "./executor.ts";
import type { CommandPlan } from "./plan.ts";
import { partDefinition } from "./request.ts";

/** Reports the new state of every device the plan's succeeded commands declare as affected. */
export async function reportSideEffects(env: OperationEnv, plan: CommandPlan, outcomes: CommandOutcome[], userId: string | undefined): Promise<number> {
  const p = env.request.payload as SendCommandPayload;
  const selectors: Array<{ expr: NonNullable<ReturnType<typeof partDefinition>["action"]>["affects"]; ctx: EvalContext }> = [];
  for (const [i, pc] of plan.commands.entries()) {
    if (outcomes[i]?.status !== 200) continue;
    for (const part of pc.parts) {
      if (part.kind === "read") continue;
      const def = partDefinition(env, plan, pc, part, {});
      if (def.action?.affects) selectors.push({ expr: def.action.affects, ctx: def.ctx });
    }
  }
  if (!selectors.length) return 0;

  const devices = await listDevices(env);
  const d = env.bundle.operations.discoverDevices.device;
  const affected = new Map<string, unknown>();
  for (const s of selectors) {
    const picked = await env.evaluator.evaluate(s.expr!, devices, bindings({ ...s.ctx, devices } as EvalContext));
    for (const device of picked === undefined ? [] : Array.isArray(picked) ? picked : [picked]) {
      const id = await env.evaluator.evaluate(d.id, device, bindings({ ...s.ctx, device }));
      if (id === undefined || id === null || String(id) === p.connectorDeviceId) continue;
      affected.set(String(id), device);
    }
  }
  let sent = 0;
  for (const [deviceId, device] of affected) {
    const ctx: EvalContext = { settings: env.bundle.settings, responses: {}, deviceId, device };
    const profile = await matchProfile(env.bundle, device, env.evaluator, ctx);
    if (!profile) continue;
    for (const ep of await endpointsOf(profile, device, env.evaluator, ctx)) {
      const clusters: MatterCluster[] = [];
      for (const c of ep.clusters) {
        const values = await readCluster(c, device, env.evaluator, { ...ctx, endpointId: ep.id }, undefined, env.logger);
        if (values.size) clusters.push({ id: c.hexId, attributes: Object.fromEntries(values) });
      }
      if (!clusters.length) continue;
      await env.publisher.publish({
        ConnectorId: p.connectorId,
        Operation: "DEVICE_EVENT",
        OperationVersion: "1.0",
        StatusCode: 200,
        ...(userId ? { UserId: userId } : {}),
        ConnectorDeviceId: deviceId,
        MatterEndpoint: { id: ep.id, clusters },
      });
      sent++;
    }
  }
  env.logger.info("side effects of the command reported", { devices: affected.size, events: sent });
  return sent;
}

/** The account's devices as discovery lists them (every page the listing declares). */
async function listDevices(env: OperationEnv): Promise<unknown[]> {
  const d = env.bundle.operations.discoverDevices;
  const ctx: EvalContext = { settings: env.bundle.settings, responses: {}, request: env.request.payload };
  if (env.auth.kind === "oauth") ctx.token = env.auth.token;
  if (env.auth.kind === "general") ctx.secret = env.auth.secret;
  await env.calls.runAll(d.requests, ctx, env.deadline);
  const spec = await env.calls.buildSpec(d.list, ctx);
  const pagination = d.list.pagination;
  const out: unknown[] = [];
  const collect = async (page: VendorResponse, index: number) => {
    const rctx: EvalContext = { ...ctx, response: page.body, status: page.status, headers: page.headers, page: index };
    const items = await env.evaluator.evaluate(d.devices, page.body, bindings(rctx));
    out.push(...(items === undefined ? [] : Array.isArray(items) ? items : [items]));
    return rctx;
  };
  if (!pagination) {
    await collect(await env.vendor.call(spec, env.deadline), 0);
    return out;
  }
  const pages = env.vendor.paginate(spec, { style: pagination.style, param: pagination.param, start: pagination.start, maxPages: pagination.maxPages }, env.deadline, async (page, index) => {
    const rctx = await collect(page, index);
    const nav: { next?: unknown; hasMore?: boolean } = {};
    if (pagination.next) nav.next = await env.evaluator.evaluate(pagination.next, page.body, bindings(rctx));
    if (pagination.hasMore) nav.hasMore = (await env.evaluator.evaluate(pagination.hasMore, page.body, bindings(rctx))) === true;
    return nav;
  });
  for await (const _page of pages) {
    // collected in the callback, which sees every page before the next is fetched
  }
  return out;
}
