/**
 * AWS.DiscoverDevices: list the user's devices page by page and send one DEVICE_DISCOVERY event
 * per vendor page (StatusCode 300 while more pages follow, 200 on the last), each device with a
 * CapabilityReport built from its profile.
 */
import { VendorError } from "../vendor/types.ts";
import { ack, type ConnectorResponse, type DiscoverDevicesPayload } from "../mi/protocol.ts";
import type { Device } from "../mi/send-connector-event.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import { capabilityReportSteps, matchProfileSteps } from "../runtime/device-model.ts";
import { evaluation, runSteps, type Steps } from "../runtime/steps.ts";
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
  /** Where the next page starts: cursor value, page number, next URL, or the rebuild value. */
  next?: unknown;
  userId?: string;
  /** Vendor page requests made so far: `maxPages` counts across hand-offs. */
  pagesFetched?: number;
  /** Listed devices whose per-device calls did not fit the budget: built first on resume. */
  pendingItems?: unknown[];
  /** The listing itself is complete: only `pendingItems` remain. */
  listed?: boolean;
  /**
   * The page `next` starts was reported in part when the budget ran low: it is read again and its
   * first `count` items are skipped. `lastIds` (the ids of the last items reported, oldest first)
   * find the place again when the vendor's list moved meanwhile (devices added or removed before
   * it). The page is read again rather than carried: a page can hold an account (tens of MB), a
   * job record cannot.
   */
  skip?: { count: number; lastIds?: string[] };
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
  options: { handOff?: (progress: DiscoveryProgress, delayMs?: number) => Promise<void> } = {},
): Promise<ConnectorResponse> {
  const p = env.request.payload as DiscoverDevicesPayload;
  return once(env, keys.discovery(p.connectorId, p.deviceDiscoveryId), `Discovery job ${p.deviceDiscoveryId} is already in progress`, () =>
    startDiscovery(env, options),
  );
}

async function startDiscovery(
  env: OperationEnv,
  options: { handOff?: (progress: DiscoveryProgress, delayMs?: number) => Promise<void> },
): Promise<ConnectorResponse> {
  const p = env.request.payload as DiscoverDevicesPayload;
  try {
    await runDiscovery(env, undefined, options.handOff);
  } catch (err) {
    // A busy vendor is worth another try later; a refusal (401, 403, 404) is not.
    if (options.handOff && isTransient(err, env.bundle)) {
      env.logger.warn("discovery hit a transient vendor failure, handed off for retry", { error: err });
      await options.handOff({ pageIndex: 0 }, err instanceof VendorError && err.kind === "quota" ? err.retryAfterMs : undefined);
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
 * (or listed devices whose per-device calls are still to be made) remain, what is done is
 * reported and the rest is handed off with its progress.
 */
export async function runDiscovery(
  env: OperationEnv,
  resume?: DiscoveryProgress,
  /** `delayMs`: the rest may run no sooner (a vendor quota is used up). */
  handOff?: (progress: DiscoveryProgress, delayMs?: number) => Promise<void>,
): Promise<DiscoveryResult> {
  const p = env.request.payload as DiscoverDevicesPayload;
  const d = env.bundle.operations.discoverDevices;
  const filter = new Set(p.connectorDeviceIdList ?? []);
  const ctx = baseContext(env);
  await env.calls.runAll(d.requests, ctx, env.deadline);
  const filterQuery = filter.size ? d.filterQuery : undefined;
  const pagination = d.list.pagination;
  const result: DiscoveryResult = { devices: 0, unsupported: 0, pages: 0 };
  let userId = resume?.userId;
  /** Built devices not yet sent, with the known-device records written once MI has them. */
  let pending: Built[] | undefined;
  const flush = (list: Built[], status: number) => sendPage(env, userId, list, status);
  let pageIndex = resume?.pageIndex ?? 0;
  let pagesFetched = resume?.pagesFetched ?? resume?.pageIndex ?? 0;
  let next: unknown = resume?.next;
  // A resume without `next` (a discovery retried after a transient failure) starts from the first page.
  let hasMore = !resume?.listed;

  /**
   * Builds the devices of listed items, one event's worth at a time, so memory holds the vendor
   * page and at most one event of built devices. The last chunk stays pending: whether it ends
   * the discovery (200) is known only after the next page. When the budget runs low during
   * per-device calls, what is built is reported and the remaining items are handed off.
   */
  const build = async (items: unknown[], page?: { start: unknown; skipped: number }): Promise<boolean> => {
    pending ??= [];
    for (let i = 0; i < items.length; i += DEVICES_PER_EVENT) {
      // A full event goes out before more items are translated (more follow, so it is not the last).
      if (pending.length >= DEVICES_PER_EVENT) {
        await flush(pending.slice(0, DEVICES_PER_EVENT), PARTIAL_DISCOVERY_STATUS);
        pending = pending.slice(DEVICES_PER_EVENT);
      }
      // The budget runs low inside a big page (an account in one answer): what is built goes out,
      // and the rest of the page is handed off, so the ACK is never late and no event goes to the outbox.
      if (i > 0 && handOff && env.deadline.remainingMs() < HANDOFF_RESERVE_MS) {
        if (pending.length) await flush(pending, PARTIAL_DISCOVERY_STATUS);
        pending = [];
        const progress: DiscoveryProgress = page
          ? { pageIndex, next: page.start, userId, pagesFetched: pagesFetched - 1, skip: { count: page.skipped + i, lastIds: await lastIds(env, ctx, items.slice(Math.max(0, i - SKIP_IDS), i)) } }
          : { pageIndex, next, userId, pagesFetched, pendingItems: items.slice(i), listed: !hasMore };
        await handOff(progress);
        result.handoff = progress;
        return false;
      }
      const { devices, rest, unsupported, retryAfterMs } = await buildDevices(env, ctx, items.slice(i, i + DEVICES_PER_EVENT), filter, !!handOff);
      result.unsupported += unsupported;
      pending.push(...devices);
      result.devices += devices.length;
      if (!rest.length) continue;
      await flush(pending, PARTIAL_DISCOVERY_STATUS);
      const pendingItems = [...rest, ...items.slice(i + DEVICES_PER_EVENT)];
      const progress: DiscoveryProgress = { pageIndex: pageIndex + 1, next, userId, pagesFetched, pendingItems, listed: !hasMore };
      await handOff!(progress, retryAfterMs);
      result.handoff = progress;
      return false;
    }
    return true;
  };

  if (resume?.pendingItems?.length) {
    if (!(await build(resume.pendingItems))) return result;
    pageIndex++;
  }

  const remainingPages = pagination ? pagination.maxPages - pagesFetched : 1;
  if (hasMore && remainingPages > 0) {
    const spec = await env.calls.buildSpec(d.list, resume?.next !== undefined && pagination?.style === "request" ? { ...ctx, cursor: resume.next } : ctx, filterQuery);
    let start = pagination?.start ?? 1;
    let resumeUrl: string | undefined;
    if (resume?.next !== undefined && pagination) {
      if (pagination.style === "cursor" && pagination.param) spec.query[pagination.param] = String(resume.next);
      if (pagination.style === "page") start = Number(resume.next);
      if (pagination.style === "link" || pagination.style === "url") resumeUrl = String(resume.next);
    }

    /** Where the listing goes after a page; computed in the loop, handed to the paginator as-is. */
    const navigate = async (page: VendorResponse, index: number) => {
      const rctx: EvalContext = { ...ctx, response: page.body, status: page.status, headers: page.headers, page: pageIndex };
      const out: { next?: unknown; hasMore?: boolean } = {};
      if (pagination?.next) out.next = await env.evaluator.evaluate(pagination.next, page.body, bindings(rctx));
      if (pagination?.hasMore) out.hasMore = (await env.evaluator.evaluate(pagination.hasMore, page.body, bindings(rctx))) === true;
      const present = out.next !== undefined && out.next !== null && out.next !== "";
      if (pagination?.style === "cursor" || pagination?.style === "request") {
        next = present ? out.next : undefined;
      } else if (pagination?.style === "page") {
        next = out.hasMore === true ? start + index + 1 : undefined;
      } else if (pagination?.style === "link" || pagination?.style === "url") {
        const link = pagination.style === "url" ? (present ? String(out.next) : undefined) : nextLink(page.headers["link"]);
        // Checked now, not only when followed: a hand-off must never carry a URL on another host.
        next = link && out.hasMore !== false ? env.vendor.checkedNextUrl(link, page.url, spec) : undefined;
      }
      hasMore = next !== undefined && pagesFetched < pagination!.maxPages;
      return out;
    };
    let nav: { next?: unknown; hasMore?: boolean } = {};

    const pages: AsyncIterable<VendorResponse> = pagination
      ? env.vendor.paginate(
          spec,
          { style: pagination.style, param: pagination.param, start, maxPages: remainingPages },
          env.deadline,
          () => nav,
          {
            ...(resumeUrl !== undefined ? { resumeUrl } : {}),
            rebuild: (cursor) => env.calls.buildSpec(d.list, { ...ctx, cursor }, filterQuery),
          },
        )
      : (async function* () {
          yield await env.vendor.call(spec, env.deadline);
        })();

    let runIndex = 0;
    /** Items of the first page already reported before a hand-off inside it (resume.skip). */
    let skip = resume?.skip;
    for await (const page of pages) {
      // A 2xx that is not JSON is the vendor's failure (502), not an empty account.
      requireReadableBody(page, d.list.name);
      pagesFetched++;
      /** Where this page starts, as a resume reads it: `next` before it moves on. */
      const pageStart = next;
      if (pagination) nav = await navigate(page, runIndex++);
      else hasMore = false;
      const rctx: EvalContext = { ...ctx, response: page.body, page: pageIndex };
      userId ??= await evaluateUserId(env, rctx);
      const items = await env.evaluator.evaluate(d.devices, page.body, bindings(rctx));
      let list = items === undefined ? [] : Array.isArray(items) ? items : [items];
      const skipped = skip ? await skipReported(env, ctx, list, skip) : 0;
      if (skipped) list = list.slice(skipped);
      skip = undefined;
      // The previous page (or the devices resumed first) goes out now that more follows.
      if (pending) await flush(pending, PARTIAL_DISCOVERY_STATUS);
      pending = [];
      if (!(await build(list, { start: pageStart, skipped }))) return result;
      result.pages++;
      pageIndex++;
      // Hand off while the listing can still be resumed cleanly: after this page, before the next.
      if (hasMore && handOff && env.deadline.remainingMs() < HANDOFF_RESERVE_MS) {
        await flush(pending, PARTIAL_DISCOVERY_STATUS);
        const progress: DiscoveryProgress = { pageIndex, next, userId, pagesFetched };
        await handOff(progress);
        result.handoff = progress;
        return result;
      }
      if (!hasMore) break;
    }
  }
  if (pagination && pagesFetched >= pagination.maxPages && next !== undefined) {
    env.logger.warn("discovery stopped at maxPages", { maxPages: pagination.maxPages });
  }
  await flush(pending ?? [], 200);
  if (result.unsupported) env.logger.warn("devices without a matching profile were not reported", { count: result.unsupported });
  return result;
}

/** Time kept back for reporting and handing off once the budget runs low. */
export const HANDOFF_RESERVE_MS = 400;

/** How many ids of the last items reported a hand-off inside a page keeps (to find the place again). */
const SKIP_IDS = 8;

async function lastIds(env: OperationEnv, ctx: EvalContext, items: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (const item of items) {
    const id = await itemId(env, ctx, item);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** The item's device id, or undefined when it has none (or its expression fails: it was not reported). */
async function itemId(env: OperationEnv, ctx: EvalContext, item: unknown): Promise<string | undefined> {
  try {
    const v = await env.evaluator.evaluateNow(env.bundle.operations.discoverDevices.device.id, item, bindings({ ...ctx, device: item }));
    return v === undefined || v === null || v === "" ? undefined : String(v);
  } catch {
    return undefined;
  }
}

/**
 * How many items of a page read again were reported before the hand-off. Usually `count` (the
 * item there is the last one reported). When the list moved meanwhile, the place after the
 * latest of `lastIds` still listed: the ones after it in `lastIds` are gone, so the next item is
 * the first not reported. When none is listed any more, the whole page is reported again:
 * reporting a device twice is harmless, leaving one out is not.
 */
async function skipReported(env: OperationEnv, ctx: EvalContext, list: unknown[], skip: { count: number; lastIds?: string[] }): Promise<number> {
  const ids = skip.lastIds ?? [];
  if (!ids.length) return Math.min(skip.count, list.length);
  if (skip.count <= list.length && (await itemId(env, ctx, list[skip.count - 1])) === ids.at(-1)) return skip.count;
  const at = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const id = await itemId(env, ctx, list[i]);
    if (id !== undefined && !at.has(id)) at.set(id, i);
  }
  for (let k = ids.length - 1; k >= 0; k--) {
    const i = at.get(ids[k]!);
    if (i !== undefined) return i + 1;
  }
  env.logger.warn("the vendor's list moved since the discovery was handed off: its page is reported again", { reported: skip.count });
  return 0;
}

async function evaluateUserId(env: OperationEnv, ctx: EvalContext): Promise<string> {
  const v = await env.evaluator.evaluate(env.bundle.operations.discoverDevices.userId, ctx, bindings(ctx));
  if ((typeof v !== "string" && typeof v !== "number") || String(v) === "") {
    throw new Error(`${env.bundle.operations.discoverDevices.userId.at}: the discovery user id expression gave no value`);
  }
  return String(v);
}

/** A built device and what the known-device store keeps of it (its profile and discovered state). */
interface Built {
  device: Device;
  profile: string;
  state: unknown;
}

/**
 * The devices of listed items, in order: each filtered by id, joined with its per-device
 * responses (`perDevice`, bounded concurrency and rate) and matched to a profile. With
 * `mayDefer`, items not started before the budget runs low are returned as `rest`.
 */
async function buildDevices(
  env: OperationEnv,
  ctx: EvalContext,
  items: unknown[],
  filter: Set<string>,
  mayDefer: boolean,
): Promise<{ devices: Built[]; rest: unknown[]; unsupported: number; retryAfterMs?: number }> {
  const d = env.bundle.operations.discoverDevices;
  const fan = d.perDevice;
  const slots: Array<Built | "filtered" | "unsupported" | undefined> = new Array(items.length);
  let cursor = 0;
  let stopAt = items.length;
  let nextStart = 0;
  const spacingMs = fan?.ratePerSecond ? 1000 / fan.ratePerSecond : 0;
  let retryAfterMs: number | undefined;
  const worker = async () => {
    while (cursor < stopAt) {
      if (fan && mayDefer && env.deadline.remainingMs() < HANDOFF_RESERVE_MS + PER_DEVICE_RESERVE_MS) {
        stopAt = Math.min(stopAt, cursor);
        return;
      }
      const i = cursor++;
      if (spacingMs) {
        // Starts are spaced by the declared rate, across the workers.
        // A timer can fire up to a millisecond early (libuv's clock is in whole milliseconds), and
        // a vendor's rate limit is a bound: wait again until the start time has really come.
        const startAt = Math.max(performance.now(), nextStart);
        nextStart = startAt + spacingMs;
        for (let wait = startAt - performance.now(); wait > 0; wait = startAt - performance.now()) {
          await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        }
      }
      try {
        // Without per-device calls a device is translated synchronously when its expressions allow
        // (engine/runtime/steps.ts): no promise per device.
        const built = fan ? buildOne(env, ctx, items[i], filter) : runSteps(env.evaluator, buildListedSteps(env, ctx, items[i], filter));
        slots[i] = built instanceof Promise ? await built : built;
      } catch (err) {
        // Over a vendor quota: this device and those after it are read by a job once the quota has room.
        if (!(mayDefer && err instanceof VendorError && err.kind === "quota")) throw err;
        stopAt = Math.min(stopAt, i);
        retryAfterMs = Math.max(retryAfterMs ?? 0, err.retryAfterMs ?? 0);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: fan ? Math.max(1, Math.min(fan.concurrency, items.length)) : 1 }, worker));
  const done = slots.slice(0, stopAt);
  const devices = done.filter((x): x is Built => typeof x === "object");
  return { devices, rest: items.slice(stopAt), unsupported: done.filter((x) => x === "unsupported").length, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** Time one device's per-device calls are given before the rest is handed off. */
export const PER_DEVICE_RESERVE_MS = 200;

/** A listed item with its per-device calls (`perDevice`): calls, then the device as steps. */
async function buildOne(env: OperationEnv, ctx: EvalContext, item: unknown, filter: Set<string>): Promise<Built | "filtered" | "unsupported"> {
  const d = env.bundle.operations.discoverDevices;
  const listed = await runSteps(env.evaluator, idSteps(env, ctx, item, filter));
  if (typeof listed === "string") return listed;
  const { id } = listed;
  const dctx: EvalContext = { ...ctx, device: item, deviceId: id, responses: { ...ctx.responses } };
  await env.calls.runAll(d.perDevice!.requests, dctx, env.deadline);
  const device = await env.evaluator.evaluate(d.perDevice!.device, { device: item, responses: dctx.responses }, bindings(dctx));
  if (device === undefined || device === null) return "unsupported";
  return runSteps(env.evaluator, buildDeviceSteps(env, ctx, device, id));
}

/** A listed item that is the device itself (no per-device calls). */
function* buildListedSteps(env: OperationEnv, ctx: EvalContext, item: unknown, filter: Set<string>): Steps<Built | "filtered" | "unsupported"> {
  const listed = yield* idSteps(env, ctx, item, filter);
  if (typeof listed === "string") return listed;
  return yield* buildDeviceSteps(env, ctx, item, listed.id);
}

/** The item's device id, or why it is not reported (no id; not in MI's list). */
function* idSteps(env: OperationEnv, ctx: EvalContext, item: unknown, filter: Set<string>): Steps<{ id: string } | "filtered" | "unsupported"> {
  const idv = yield evaluation(env.bundle.operations.discoverDevices.device.id, item, bindings({ ...ctx, device: item }));
  if (idv === undefined || idv === null || idv === "") return "unsupported";
  const id = String(idv);
  if (filter.size && !filter.has(id)) return "filtered";
  return { id };
}

function* buildDeviceSteps(env: OperationEnv, ctx: EvalContext, device: unknown, id: string): Steps<Built | "unsupported"> {
  const d = env.bundle.operations.discoverDevices.device;
  const dctx: EvalContext = { ...ctx, device, deviceId: id };
  const b = bindings(dctx);
  const profile = yield* matchProfileSteps(env.bundle, device, dctx);
  if (!profile) return "unsupported";
  const nodeId = d.nodeId ? yield evaluation(d.nodeId, device, b) : undefined;
  const out: Device = {
    ConnectorDeviceId: id,
    CapabilityReport: yield* capabilityReportSteps(profile, device, dctx, nodeId === undefined ? undefined : String(nodeId), env.logger),
  };
  const name = d.name ? yield evaluation(d.name, device, b) : undefined;
  const cleanName = typeof name === "string" ? deviceName(name) : undefined;
  if (cleanName) out.ConnectorDeviceName = cleanName;
  const metadata: Record<string, unknown> = {};
  if (d.metadata) Object.assign(metadata, (yield evaluation(d.metadata, device, b)) ?? {});
  const brand = d.brand ? yield evaluation(d.brand, device, b) : undefined;
  const model = d.model ? yield evaluation(d.model, device, b) : undefined;
  if (typeof brand === "string" && brand) metadata.Brand = brand;
  if (typeof model === "string" && model) metadata.Model = model;
  if (Object.keys(metadata).length) out.DeviceMetadata = metadata;
  return { device: out, profile: profile.id, state: device };
}

/** ConnectorDeviceName allows letters, digits, space, `.`, `_`, `-` (model pattern), 1-256. */
export function deviceName(name: string): string | undefined {
  const clean = name.replace(/[^\p{L}\p{N} ._-]+/gu, " ").replace(/\s+/g, " ").trim().slice(0, 256);
  return clean || undefined;
}

/**
 * Sends built devices (at most 100 per event), then records them in the known-device store:
 * events, polls and commands resolve these devices' profiles (and generated endpoints) from there.
 */
async function sendPage(env: OperationEnv, userId: string | undefined, built: Built[], finalStatus: number): Promise<void> {
  const p = env.request.payload as DiscoverDevicesPayload;
  const chunks: Device[][] = [];
  for (let i = 0; i < built.length; i += DEVICES_PER_EVENT) chunks.push(built.slice(i, i + DEVICES_PER_EVENT).map((b) => b.device));
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
  if (built.length) {
    const at = Date.now();
    const seen = built.map((b): [string, KnownDevice] => [b.device.ConnectorDeviceId, { profile: b.profile, ...(userId !== undefined ? { userId } : {}), state: b.state, at }]);
    await new KnownDevices(env.store, p.connectorId)
      .recordAll(seen)
      .catch((err: unknown) => env.logger.warn("known device state not recorded; events for these devices are matched afresh", { error: err }));
  }
}
