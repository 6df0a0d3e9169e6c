/**
 * What the engine measures, recorded into the buffer of the unit of work in progress (an MI
 * request, a deferred job, a queue batch, a webhook delivery) and published once when it ends:
 * one EMF line per dimension set, not one per call (engine/metrics/emf.ts).
 *
 * The buffer is found through an AsyncLocalStorage scope, so the shared clients (vendor, MI) record
 * into the invocation that uses them and overlapping work in one process keeps its numbers apart.
 * Outside a scope (the CLI, a test without a publisher) recording is a no-op.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type MetricUnitName = "Count" | "Milliseconds";

/** The metric names the engine emits (README "Operations: logs, metrics, tracing"). */
export const Metric = {
  /** Events (parts) MI accepted. */
  EventsSent: "EventsSent",
  /** Parts MI refused for good (4xx): logged with MI's reason, never retried. */
  EventsRefused: "EventsRefused",
  /** Parts MI did not take now, handed to the outbox. */
  EventsDeferred: "EventsDeferred",
  /** Parts not sent because their user was deactivated. */
  EventsSuppressed: "EventsSuppressed",
  /** Vendor calls by call name and status class; VendorLatency the same calls' duration (all attempts). */
  VendorCalls: "VendorCalls",
  VendorLatency: "VendorLatency",
  /** MI operations handed to the job queue to finish after the ACK. */
  HandOffs: "HandOffs",
  /** Webhook deliveries answered with a refusal (401, 400, 415, 500, 503), by status. */
  WebhookRejections: "WebhookRejections",
} as const;

export type Dimensions = Readonly<Record<string, string>>;

interface Series {
  unit: MetricUnitName;
  values: number[];
}

/** The numbers of one unit of work, grouped by dimension set; counts are summed, durations kept. */
export class MetricsBuffer {
  private readonly groups = new Map<string, { dimensions: Dimensions; series: Map<string, Series> }>();

  add(name: string, unit: MetricUnitName, value: number, dimensions: Dimensions = {}): void {
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)));
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { dimensions, series: new Map() }));
    const series = group.series.get(name);
    if (!series) group.series.set(name, { unit, values: [value] });
    else if (unit === "Count") series.values[0]! += value;
    else series.values.push(value);
  }

  get empty(): boolean {
    return this.groups.size === 0;
  }

  /** Each dimension set with its metrics. */
  *entries(): Iterable<{ dimensions: Dimensions; metrics: Array<{ name: string; unit: MetricUnitName; values: number[] }> }> {
    for (const g of this.groups.values()) yield { dimensions: g.dimensions, metrics: [...g.series].map(([name, s]) => ({ name, ...s })) };
  }
}

/** Where a unit of work's buffer goes when it ends. */
export interface MetricsPublisher {
  publish(buffer: MetricsBuffer): void;
}

const scopes = new AsyncLocalStorage<MetricsBuffer>();

export function countMetric(name: string, value = 1, dimensions?: Dimensions): void {
  scopes.getStore()?.add(name, "Count", value, dimensions);
}

export function durationMetric(name: string, ms: number, dimensions?: Dimensions): void {
  scopes.getStore()?.add(name, "Milliseconds", ms, dimensions);
}

/**
 * Runs `fn` with a buffer of its own and publishes it when `fn` ends, whether it succeeded or not.
 * Without a publisher nothing is recorded (not even into an enclosing scope: its numbers are its own).
 */
export async function withMetrics<T>(publisher: MetricsPublisher | undefined, fn: () => Promise<T>): Promise<T> {
  if (!publisher) return scopes.exit(fn);
  const buffer = new MetricsBuffer();
  try {
    return await scopes.run(buffer, fn);
  } finally {
    if (!buffer.empty) {
      try {
        publisher.publish(buffer);
      } catch {
        // Metrics never fail the work they measure.
      }
    }
  }
}

/** "2xx", "4xx", "5xx" for an HTTP status; the failure kind (timeout, network, deadline) without one. */
export function statusClass(status: number | undefined, kind?: string): string {
  if (typeof status === "number" && status >= 100 && status < 600) return `${Math.floor(status / 100)}xx`;
  return kind ?? "error";
}
