/**
 * A command as an explicit, resumable plan, recorded in the state store before the first vendor
 * request is sent and after every change of a request's state. The synchronous attempt and any
 * deferred job execute the same plan: a job resumes where the attempt stopped and never builds
 * the requests again, so values computed from the device's state (a Toggle's target) are fixed
 * once, when the command is planned.
 */
import type { VendorCallSpec } from "../../vendor/types.ts";
import type { StateStore } from "../../store/store.ts";
import { keys, TTL } from "../keys.ts";

/**
 * planned: not sent yet; sent: handed to the vendor, no answer yet (an attempt that stops here
 * died or was cut off); succeeded / failed: the vendor answered; unknown: sent, and the answer was
 * lost (timeout), so whether the vendor acted is not known.
 */
export type StepState = "planned" | "sent" | "succeeded" | "failed" | "unknown";

/** A built vendor request without its credentials (they are injected when it is sent). */
export type StoredRequest = Omit<VendorCallSpec, "auth">;

export interface PlanStep {
  /** The part (command index, part index) whose call this step is; a batched step has several. */
  owner: { command: number; part: number; request: number };
  /** Response key (`responses.<name>`) and label. */
  name: string;
  idempotent: boolean;
  /** Built at planning for a part's first request; later requests of a part when they are due. */
  request?: StoredRequest;
  state: StepState;
  /** Epoch ms when the request was last handed to the vendor. */
  sentAt?: number;
  /** How often it was sent again after a lost answer (at most once). */
  resends: number;
  /** Set once the engine stopped trying to learn the outcome of an `unknown` step. */
  givenUp?: boolean;
  response?: { status: number; headers: Record<string, string>; body: unknown };
  error?: { status: number; message: string; transient: boolean };
}

/** One action of an MI command: the command's own action, or one attribute's write. */
export interface PlanPart {
  kind: "invoke" | "write" | "read";
  attributeId?: number;
  /** Indexes into `plan.steps`, in the order they run. */
  steps: number[];
}

export interface PlannedCommand {
  endpointId: string;
  /** Cluster and command key as MI sent them (echoed in the response). */
  clusterRef: string;
  key: string;
  fields: Record<string, unknown>;
  /**
   * Known at planning (404, 400, 405, 501, a request that cannot be built, a value outside its
   * Matter type or the device's limits): nothing is sent. `code` is a Matter status name
   * ("CONSTRAINT_ERROR") for the response's `errors.code`.
   */
  failure?: { status: number; message: string; transient: boolean; code?: string };
  parts: PlanPart[];
}

export interface CommandPlan {
  version: 1;
  traceId: string;
  profileId?: string;
  /** The device as read when the command was planned (confirms and Toggle-like bodies read it). */
  device?: unknown;
  /** Generated (`forEach`) endpoints the request targets: template and element, fixed at planning. */
  endpoints?: Record<string, { template: string; element: unknown; elementIndex: number }>;
  /** The whole request failed before any command could be planned (device not readable). */
  failure?: { status: number; message: string; transient: boolean };
  commands: PlannedCommand[];
  steps: PlanStep[];
  /** DEVICE_COMMAND_RESPONSE sent; side effects reported. */
  reported?: boolean;
  sideEffectsReported?: boolean;
  /** The read-back of commands the vendor only accepted was handed to the job queue. */
  readBackScheduled?: boolean;
}

export function planKey(connectorId: string, traceId: string): string {
  return `plan:${keys.trace(connectorId, traceId)}`;
}

export async function loadPlan(store: StateStore, connectorId: string, traceId: string): Promise<CommandPlan | undefined> {
  return store.get<CommandPlan>(planKey(connectorId, traceId));
}

export async function savePlan(store: StateStore, connectorId: string, plan: CommandPlan): Promise<void> {
  await store.put(planKey(connectorId, plan.traceId), plan, TTL.idempotency);
}

/** Whether the vendor may have acted on any request of the plan. */
export function hadVendorEffect(plan: CommandPlan): boolean {
  return plan.steps.some((s) => s.state === "succeeded" || s.state === "sent" || s.state === "unknown");
}
