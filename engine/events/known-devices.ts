/**
 * What the connector knows about each device between invocations (design.md, state "devices"):
 * the profile it was discovered with, the MI user who discovered it, and the last vendor state
 * seen (discovery, events, polls merged). Events resolve the profile from here instead of
 * guessing it from partial data (a thermostat's temperature change must land on the thermostat,
 * not match a "temperature sensor" profile), merge their partial payload into the known state,
 * and report only what changed. The record is refreshed by every discovery and event; a device
 * never seen (or whose record expired) falls back to matching.
 *
 * Vendor user ids seen on events of a known device are remembered as aliases of the device's MI
 * user, so later events carrying only the vendor's id still reach (or, after DeactivateUser,
 * are withheld from) the right MI user.
 */
import { keys, TTL } from "../operations/keys.ts";
import type { StateStore } from "../store/store.ts";

export interface KnownDevice {
  /** Profile id the device was discovered (or first matched) with. */
  profile: string;
  /** The MI user id the device belongs to (the user whose discovery reported it). */
  userId?: string;
  /** The vendor's device state, shaped like the discovery `device`. */
  state: unknown;
  /** Epoch ms of the last update. */
  at: number;
}

/** Writes at most this many records at once (a discovery page of 100 devices). */
const WRITE_CONCURRENCY = 16;

export class KnownDevices {
  constructor(
    private readonly store: StateStore,
    private readonly connectorId: string,
  ) {}

  async get(deviceId: string): Promise<KnownDevice | undefined> {
    const rec = await this.store.get<KnownDevice>(keys.knownDevice(this.connectorId, deviceId));
    return rec && typeof rec.profile === "string" ? rec : undefined;
  }

  async record(deviceId: string, device: KnownDevice): Promise<void> {
    await this.store.put(keys.knownDevice(this.connectorId, deviceId), device, TTL.knownDevice);
  }

  /** Records a discovery page; bounded concurrency keeps a DynamoDB-backed page within budget. */
  async recordAll(entries: Array<[string, KnownDevice]>): Promise<void> {
    for (let i = 0; i < entries.length; i += WRITE_CONCURRENCY) {
      await Promise.all(entries.slice(i, i + WRITE_CONCURRENCY).map(([id, d]) => this.record(id, d)));
    }
  }

  /** The MI user a vendor user id was seen for. */
  async userOfAlias(vendorUserId: string): Promise<string | undefined> {
    const rec = await this.store.get<{ userId: string }>(keys.userAlias(vendorUserId));
    return typeof rec?.userId === "string" ? rec.userId : undefined;
  }

  async recordAlias(vendorUserId: string, userId: string): Promise<void> {
    await this.store.put(keys.userAlias(vendorUserId), { userId }, TTL.knownDevice);
  }
}

/**
 * `partial` laid over `base`: objects merge key by key (recursively), anything else in `partial`
 * (arrays, scalars, null) replaces what was there; keys `partial` does not name keep their value.
 */
export function mergeState(base: unknown, partial: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(partial)) return partial === undefined ? base : partial;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    Object.defineProperty(out, k, { value: Object.hasOwn(base, k) ? mergeState(base[k], v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
