/**
 * The evaluation context of mapping expressions (documented in the README, "Expression context").
 * Expressions that work "over" a subject (a vendor device, a response page, a webhook event) get
 * that subject as their input `$`; all others get this context as input. In every expression each
 * member is also bound as a `$variable` (`$token`, `$settings`, `$device`, ...).
 */
import type { ConnectorPayload } from "../mi/protocol.ts";

export interface EvalContext {
  /** The MI request payload (operationName, connectorId, traceId, endpoints, ...). */
  request?: ConnectorPayload;
  /** The end user's OAuth access token (OAuth2.0 requests). */
  token?: string;
  /** The General Authorization secret's fields (GeneralAuthorization requests). */
  secret?: Record<string, unknown>;
  /** The vendor's id of the linked user, once known (account bootstrap and every later expression). */
  userId?: string;
  /** Values the account bootstrap kept for this user (`account.values`), decrypted. */
  account?: Record<string, unknown>;
  /** The bundle's `settings`. */
  settings: Record<string, unknown>;
  /** Response bodies of earlier calls of this operation, by call name. */
  responses: Record<string, unknown>;
  /** Response headers (lower-case names) of earlier calls of this operation, by call name. */
  responseHeaders?: Record<string, Record<string, string>>;
  /** The current call's parsed body, status and headers (in success, next, hasMore, devices, confirms). */
  response?: unknown;
  status?: number;
  headers?: Record<string, string>;
  /** The ConnectorDeviceId the request or event is about. */
  deviceId?: string;
  /** Vendor JSON of the device (discovery item, getDevice result, webhook state). */
  device?: unknown;
  endpointId?: string;
  command?: { id: string; name: string; cluster: string };
  /** Command fields by Matter name and by id ("Level" and "0x0000"). */
  fields?: Record<string, unknown>;
  /** UpdateState: the new value of the attribute being written. */
  value?: unknown;
  /** UpdateState: every attribute of the update, by name and id. */
  attributes?: Record<string, unknown>;
  /** Pagination: the page index (0-based). */
  page?: number;
  /** Webhooks: the parsed delivery body and the current event. */
  body?: unknown;
  event?: unknown;
}

export function bindings(ctx: EvalContext): Record<string, unknown> {
  return ctx as unknown as Record<string, unknown>;
}
