/**
 * AWS.DiscoverDevices: list the user's devices page by page and send one DEVICE_DISCOVERY event
 * per vendor page (StatusCode 300 while more pages follow, 200 on the last), each device with a
 * CapabilityReport built from its profile.
 */
import { ack, type ConnectorResponse, type DiscoverDevicesPayload } from "../mi/protocol.ts";
import type { Device } from "../mi/send-connector-event.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import { capabilityReport, matchProfile } from "../runtime/device-model.ts";
import { KnownDevices, type KnownDevice } from "../events/known-devices.ts";
import type { VendorResponse } from "../vendor/types.ts";
import { nextLink } from "../vendor/url.ts";
import { baseContext, type OperationEnv } from "./environment.ts";
import { keys } from "./keys.ts";
import { once } from "./idempotency.ts";
import { errorToStatus, isTransient, safeMessage } from "./errors.ts";
import { SendConnectorEventError } from "../mi/event-errors.ts";
import { requireReadableBody } from "../vendor/unusable.ts";

/** The documented "3xx while more pages follow"; the exact code is ours (c2c-protocol.md §4). */
export const PARTIAL_DISCOVERY_STATUS = 300;
/** Cap per event, so one huge vendor page does not make one huge request. */
export const DEVICES_PER_EVENT = 100;

export interface DiscoveryProgress {
  /** Pages already reported. */
  pageIndex: number;
  /** Where the next page starts: cursor value, page number, or next URL. */
  next?: unknown;
  userId?: string;
}

export interface DiscoveryResult {
  devices: number;
  unsupported: number;
  pages: number;
  /** Set when the run stopped early to hand the rest off. */
  handoff?: DiscoveryProgress;
}

export async function discoverDevices(
  env: OperationEnv,
  options: { handOff?: (progress: DiscoveryProgress) => Promise<void> } = {},
): Promise<ConnectorResponse> {
  const p = env.request.payload as DiscoverDevicesPayload;
  return once(env, keys.discovery(p.connectorId, p.deviceDiscoveryId), `Discovery job ${p.deviceDiscoveryId} is already in progress`, () =>
    startDiscovery(env, options),
  );
}

async function startDiscovery(
  env: OperationEnv,
  options: { handOff?: (progress: DiscoveryProgress) => Promise<void> },
): Promise<ConnectorResponse> {
  const p = env.request.payload as DiscoverDevicesPayload;
  try {
    await runDiscovery(env, undefined, options.handOff);
  } catch (err) {
    // A busy vendor is worth another try later; a refusal (401, 403, 404) is not.
    if (options.handOff && isTransient(err)) {
      env.logger.warn("discovery hit a transient vendor failure, handed off for retry", { error: err });
      await options.handOff({ pageIndex: 0 });
      return ack(200, `Discovering devices for discovery-job-id ${p.deviceDiscoveryId}, the vendor is busy: results follow as events`);
    }
    const status = errorToStatus(err, env.bundle);
    env.logger.error("discovery failed", { error: err, status });
    // MI refused an event for good: another event would be refused too (and is not a retry MI asked for).
    if (!(err instanceof SendConnectorEventError)) await reportDiscoveryFailure(env, status, safeMessage(err));
    return ack(status, `Device discovery ${p.deviceDiscoveryId} failed: ${safeMessage(err)}`);
  }
  return ack(200, `Discovering devices for discovery-job-id ${p.deviceDiscoveryId} with connector-id ${p.connectorId}`);
}

export async function reportDiscoveryFailure(env: OperationEnv, status: number, message: string, userId?: string): Promise<void> {
  const p = env.request.payload as DiscoverDevicesPayload;
  await env.publisher.publish({
    ConnectorId: p.connectorId,
    Operation: "DEVICE_DISCOVERY",
    OperationVersion: "1.0",
    DeviceDiscoveryId: p.deviceDiscoveryId,
    StatusCode: status,
    Message: message,
    Devices: [],
    ...(userId ? { UserId: userId } : {}),
  });
}

/**
 * Runs (or resumes) the listing. When `handOff` is given and the deadline runs low while pages
 * remain, the pending page is reported and the rest is handed off with its progress.
 */
export async function runDiscovery(
  env: OperationEnv,
  resume?: DiscoveryProgress,
  handOff?: (progress: DiscoveryProgress) => Promise<void>,
): Promise<DiscoveryResult> {
  const p = env.request.payload as DiscoverDevicesPayload;
  const d = env.bundle.operations.discoverDevices;
  const filter = new Set(p.connectorDeviceIdList ?? []);
  const ctx = baseContext(env);
  await env.calls.runAll(d.requests, ctx, env.deadline);
  const spec = await env.calls.buildSpec(d.list, ctx, filter.size ? d.filterQuery : undefined);
  const pagination = d.list.pagination;
  let start = pagination?.start ?? 1;
  if (resume?.next !== undefined && pagination) {
    if (pagination.style === "cursor" && pagination.param) spec.query[pagination.param] = String(resume.next);
    if (pagination.style === "page") start = Number(resume.next);
    if (pagination.style === "link") {
      const u = new URL(String(resume.next));
      spec.baseUrl = u.origin;
      spec.path = u.pathname;
      spec.pathParams = {};
      spec.query = Object.fromEntries(u.searchParams);
    }
  }

  const result: DiscoveryResult = { devices: 0, unsupported: 0, pages: 0 };
  let userId = resume?.userId;
  let pending: Device[] | undefined;
  /** The devices of `pending` as the known-device store records them once MI has the page. */
  let seen: Array<[string, KnownDevice]> = [];
  let pageIndex = resume?.pageIndex ?? 0;
  let next: unknown;
  let hasMore = false;

  /** Where the listing goes after a page; computed in the loop, handed to the paginator as-is. */
  const navigate = async (page: VendorResponse, index: number) => {
    const rctx: EvalContext = { ...ctx, response: page.body, status: page.status, headers: page.headers, page: index };
    const out: { next?: unknown; hasMore?: boolean } = {};
    if (pagination?.next) out.next = await env.evaluator.evaluate(pagination.next, page.body, bindings(rctx));
    if (pagination?.hasMore) out.hasMore = (await env.evaluator.evaluate(pagination.hasMore, page.body, bindings(rctx))) === true;
    if (pagination?.style === "cursor") {
      next = out.next;
      hasMore = out.next !== undefined && out.next !== null && out.next !== "";
    } else if (pagination?.style === "page") {
      next = start + index + 1;
      hasMore = out.hasMore === true;
    } else if (pagination?.style === "link") {
      const link = nextLink(page.headers["link"]);
      next = link ? new URL(link, page.url).toString() : undefined;
      hasMore = next !== undefined;
    }
    return out;
  };
  let nav: { next?: unknown; hasMore?: boolean } = {};
  const after = () => nav;

  const pages: AsyncIterable<VendorResponse> = pagination
    ? env.vendor.paginate(spec, { style: pagination.style, param: pagination.param, start, maxPages: pagination.maxPages }, env.deadline, after)
    : (async function* () {
        yield await env.vendor.call(spec, env.deadline);
      })();

  let index = 0;
  for await (const page of pages) {
    requireReadableBody(page, d.list.name);
    if (pagination) nav = await navigate(page, index++);
    else hasMore = false;
    const rctx: EvalContext = { ...ctx, response: page.body, page: pageIndex };
    userId ??= await evaluateUserId(env, rctx);
    const items = await env.evaluator.evaluate(d.devices, page.body, bindings(rctx));
    const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
    if (pending) await sendPage(env, userId, pending, PARTIAL_DISCOVERY_STATUS, seen);
    pending = [];
    seen = [];
    // Translated and sent one event's worth at a time, so memory holds the vendor page and at most
    // one event of built devices, not every device of the account. The last chunk of the page
    // stays pending: whether it ends the discovery (200) is known only after the next page.
    for (const device of list) {
      const built = await buildDevice(env, ctx, device, filter);
      if (built === "filtered") continue;
      if (built === "unsupported") {
        result.unsupported++;
        continue;
      }
      if (pending.length === DEVICES_PER_EVENT) {
        await sendPage(env, userId, pending, PARTIAL_DISCOVERY_STATUS, seen);
        pending = [];
        seen = [];
      }
      pending.push(built.device);
      seen.push([built.device.ConnectorDeviceId, { profile: built.profile, ...(userId !== undefined ? { userId } : {}), state: device, at: Date.now() }]);
      result.devices++;
    }
    result.pages++;
    pageIndex++;
    // Hand off while the listing can still be resumed cleanly: after this page, before the next.
    if (hasMore && handOff && env.deadline.remainingMs() < HANDOFF_RESERVE_MS) {
      await sendPage(env, userId, pending, PARTIAL_DISCOVERY_STATUS, seen);
      const progress = { pageIndex, next, userId };
      await handOff(progress);
      result.handoff = progress;
      return result;
    }
  }
  await sendPage(env, userId, pending ?? [], 200, seen);
  if (result.unsupported) env.logger.warn("devices without a matching profile were not reported", { count: result.unsupported });
  return result;
}

/** Time kept back for reporting and handing off once the budget runs low. */
export const HANDOFF_RESERVE_MS = 400;

async function evaluateUserId(env: OperationEnv, ctx: EvalContext): Promise<string> {
  const v = await env.evaluator.evaluate(env.bundle.operations.discoverDevices.userId, ctx, bindings(ctx));
  if ((typeof v !== "string" && typeof v !== "number") || String(v) === "") {
    throw new Error(`${env.bundle.operations.discoverDevices.userId.at}: the discovery user id expression gave no value`);
  }
  return String(v);
}

async function buildDevice(env: OperationEnv, ctx: EvalContext, device: unknown, filter: Set<string>): Promise<{ device: Device; profile: string } | "filtered" | "unsupported"> {
  const d = env.bundle.operations.discoverDevices.device;
  const dctx: EvalContext = { ...ctx, device };
  const b = bindings(dctx);
  const idv = await env.evaluator.evaluate(d.id, device, b);
  if (idv === undefined || idv === null || idv === "") return "unsupported";
  const id = String(idv);
  if (filter.size && !filter.has(id)) return "filtered";
  dctx.deviceId = id;
  const profile = await matchProfile(env.bundle, device, env.evaluator, dctx);
  if (!profile) return "unsupported";
  const nodeId = d.nodeId ? await env.evaluator.evaluate(d.nodeId, device, b) : undefined;
  const out: Device = {
    ConnectorDeviceId: id,
    CapabilityReport: await capabilityReport(profile, device, env.evaluator, dctx, nodeId === undefined ? undefined : String(nodeId), env.logger),
  };
  const name = d.name ? await env.evaluator.evaluate(d.name, device, b) : undefined;
  const cleanName = typeof name === "string" ? deviceName(name) : undefined;
  if (cleanName) out.ConnectorDeviceName = cleanName;
  const metadata: Record<string, unknown> = {};
  if (d.metadata) Object.assign(metadata, (await env.evaluator.evaluate(d.metadata, device, b)) ?? {});
  const brand = d.brand ? await env.evaluator.evaluate(d.brand, device, b) : undefined;
  const model = d.model ? await env.evaluator.evaluate(d.model, device, b) : undefined;
  if (typeof brand === "string" && brand) metadata.Brand = brand;
  if (typeof model === "string" && model) metadata.Model = model;
  if (Object.keys(metadata).length) out.DeviceMetadata = metadata;
  return { device: out, profile: profile.id };
}

/** ConnectorDeviceName allows letters, digits, space, `.`, `_`, `-` (model pattern), 1-256. */
export function deviceName(name: string): string | undefined {
  const clean = name.replace(/[^\p{L}\p{N} ._-]+/gu, " ").replace(/\s+/g, " ").trim().slice(0, 256);
  return clean || undefined;
}

async function sendPage(env: OperationEnv, userId: string | undefined, devices: Device[], finalStatus: number, seen: Array<[string, KnownDevice]> = []): Promise<void> {
  const p = env.request.payload as DiscoverDevicesPayload;
  const chunks: Device[][] = [];
  for (let i = 0; i < devices.length; i += DEVICES_PER_EVENT) chunks.push(devices.slice(i, i + DEVICES_PER_EVENT));
  if (!chunks.length) chunks.push([]);
  for (let i = 0; i < chunks.length; i++) {
    await env.publisher.publish({
      ConnectorId: p.connectorId,
      Operation: "DEVICE_DISCOVERY",
      OperationVersion: "1.0",
      DeviceDiscoveryId: p.deviceDiscoveryId,
      ...(userId ? { UserId: userId } : {}),
      StatusCode: i === chunks.length - 1 ? finalStatus : PARTIAL_DISCOVERY_STATUS,
      Devices: chunks[i],
    });
  }
  // Events and polls resolve these devices' profiles and owners from here (engine/events/known-devices.ts).
  if (seen.length) {
    await new KnownDevices(env.store, p.connectorId)
      .recordAll(seen)
      .catch((err: unknown) => env.logger.warn("known device state not recorded; events for these devices are matched afresh", { error: err }));
  }
}
