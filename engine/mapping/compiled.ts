/**
 * The compiled form of a mapping bundle: what the runtime executes. Produced by compileBundle()
 * from a validated ConnectorMapping (mapping.types.ts, generated from the schema), it is plain
 * JSON so build.mjs can embed it in the Lambda artifact: no YAML parser and no schema compiler
 * at cold start. Matter references are resolved to numeric ids and canonical hex strings,
 * `use:` references are merged, defaults are filled in.
 */
import type { ValueType } from "../matter/value-type.ts";
import type { Oauth, GeneralAuthorization, Pagination, Value } from "./mapping.types.ts";

/** A JSONata expression with the place that declared it (for errors and --trace). */
export interface Expr {
  src: string;
  /** "mappings/acme/connector.yaml:12:9" */
  at: string;
}

export type ValueSpec = { expr: Expr } | { literal: Exclude<Value, string> };

/** An `errors:` rule: classifies a vendor answer as an MI status with the vendor's code and message. */
export interface CompiledErrorRule {
  when: Expr;
  status: number;
  code?: Expr;
  message?: Expr;
}

/** A local refusal of a command or attribute write, before any vendor call. */
export interface CompiledRefusal {
  when: Expr;
  status: number;
  message?: Expr;
}

export interface CompiledCall {
  /** Key under which the response body is kept in `responses`. */
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  baseUrl?: string;
  /** Base URL from data (a per-user host); checked against `api.allowedHosts` before the call. */
  baseUrlFrom?: Expr;
  /** Whether `api.signing` applies (true unless the call says `sign: false`). */
  sign?: boolean;
  pathParams: Record<string, Expr>;
  query: Record<string, ValueSpec>;
  headers: Record<string, ValueSpec>;
  body?: Expr;
  form?: Record<string, ValueSpec>;
  auth: "token" | "none" | "clientCredentials";
  timeoutMs?: number;
  success?: Expr;
  acceptStatus: number[];
  pagination?: { style: Pagination["style"]; param?: string; next?: Expr; start: number; hasMore?: Expr; maxPages: number };
  /** Sending it twice does what sending it once does: a lost answer may be re-sent once. */
  idempotent?: boolean;
  /** How requests of this call from several commands of one MI request are combined. */
  batch?: CallBatch;
  /** The call's own error rules (api.errors are tried after them). */
  errors?: CompiledErrorRule[];
  /** The call's own quota (`api.quota` applies on top of it). */
  quota?: CompiledQuota;
  at: string;
}

/** A vendor quota (`api.quota`, a call's `quota`); `name` keys its counters ("api", "call:<name>"). */
export interface CompiledQuota {
  name: string;
  requestsPerMinute?: number;
  openRequests?: number;
  per: "user" | "connector";
}

export type CallBatch = { merge: "deep" } | { items: string; max: number };

/**
 * Device limits of a value: attribute ids of the same compiled cluster whose reported values
 * bound it (the first one with a value wins), e.g. ColorTempPhysicalMin/MaxMireds.
 */
export interface CompiledLimits {
  min?: number[];
  max?: number[];
}

export interface CompiledAttributeRef {
  clusterId: number;
  attributeId: number;
  expr: Expr;
  /** The confirmed attribute's Matter value type: a confirmed value is checked before it reaches MI. */
  valueType?: ValueType;
}

export interface CompiledAction {
  /** Checked before any request: the first that holds answers its status. */
  refuse?: CompiledRefusal[];
  requests: CompiledCall[];
  /** Attributes confirmed by a successful answer. */
  confirms: CompiledAttributeRef[];
  responseFields: Array<{ id: number; hexId: string; expr: Expr; valueType?: ValueType }>;
  /** Over the device read again: whether a request whose answer was lost took effect. */
  verify?: Expr;
  /** Over the account's devices: the other devices this command changes. */
  affects?: Expr;
  /** The vendor's answer means "accepted": the confirmed state comes from a read-back of the device after `afterMs`. */
  readBack?: { afterMs: number; when?: Expr };
  at: string;
}

export interface CompiledAttribute {
  id: number;
  hexId: string;
  name: string;
  /** Matter type from the cluster table (e.g. "uint8", "bool", "enum8"), used to coerce inbound values. */
  type?: string;
  /** What a value of this attribute may be (engine/matter/value-type.ts): checked before it reaches MI. */
  valueType?: ValueType;
  /** Device limits an UpdateState value must respect. */
  limits?: CompiledLimits;
  read?: Expr;
  /** Constant value; `hasConstant` distinguishes a declared null from no constant. */
  constant?: unknown;
  hasConstant: boolean;
  write?: CompiledAction;
  /**
   * CurrentLevel of a light (Level Control with the Lighting feature): a value below 1 is no
   * level, the light is off; it is left out so the level stays what it was (engine/mapping/lighting.ts).
   */
  lightLevel?: true;
  /** OnOff.OnOff of a light: the endpoint's CurrentLevel expression; a level of 0 reads as off. */
  offAtLevelZero?: Expr;
}

export interface CompiledField {
  id: number;
  hexId: string;
  name: string;
  /** Matter type from the cluster table, used to coerce inbound values ("3" -> 3 for an enum). */
  type?: string;
  /** What a value of this field may be: MI's values are checked before any vendor call. */
  valueType?: ValueType;
  /** Device limits the field's value must respect. */
  limits?: CompiledLimits;
}

export interface CompiledCommand {
  id: number;
  hexId: string;
  name: string;
  /** The command's request fields from the cluster table, to expose `fields.<Name>` and `fields."0x0000"`. */
  fields: CompiledField[];
  action: CompiledAction;
}

export interface CompiledMatterEvent {
  id: number;
  hexId: string;
  name: string;
  when: Expr;
  fields: Array<{ id: number; hexId: string; name: string; expr: Expr; valueType?: ValueType }>;
}

export interface CompiledCluster {
  id: number;
  hexId: string;
  name: string;
  /** Matter 1.4 revision from the cluster table (1..10). */
  revision: number;
  featureMap?: number;
  /** featureMap declared as an expression over the vendor device, evaluated per capability report. */
  featureMapFrom?: Expr;
  attributes: CompiledAttribute[];
  commands: CompiledCommand[];
  events: CompiledMatterEvent[];
}

export interface CompiledEndpoint {
  /** The endpoint id; for a `forEach` template, its position as a placeholder ("forEach:0"). */
  id: string;
  /** One endpoint per element of this array expression over the device (ids from `idFrom`). */
  forEach?: Expr;
  idFrom?: Expr;
  /** Spec names of the device types, as reported in the capability report. */
  deviceTypes: string[];
  when?: Expr;
  clusters: CompiledCluster[];
}

export interface CompiledProfile {
  id: string;
  match: Expr;
  endpoints: CompiledEndpoint[];
}

export interface CompiledVerify {
  scheme: "hmac" | "sharedSecret" | "publicKey" | "httpSignature" | "jwt" | "none";
  algorithm?: string;
  encoding?: "hex" | "base64";
  header?: string;
  prefix?: string;
  signed?: string;
  timestampHeader?: string;
  toleranceSeconds?: number;
  secret?: { env: string; secretsManager?: boolean; key?: string };
  publicKey?: { env: string; secretsManager?: boolean; key?: string };
  /** httpSignature / jwt: allowed signature algorithms. */
  algorithms?: string[];
  /** httpSignature: components every signature must cover. */
  components?: string[];
  /** httpSignature: keys fetched from the keyId URL on these hosts. */
  keyUrl?: { allowedHosts: string[]; ttlSeconds?: number; pemPath?: string; baseUrl?: string };
  jwksUrl?: string;
  issuer?: string | string[];
  audience?: string | string[];
  audienceEnv?: string;
  claims?: Record<string, string | boolean | { env: string }>;
  /** `none` only: the bundle accepts unauthenticated deliveries, and says why. */
  insecure?: boolean;
  reason?: string;
}

/** How polls read devices and how often (engine/polling). */
export interface CompiledPolling {
  intervalMinutes: number;
  requestsPerMinute?: number;
  credentialTtlSeconds: number;
  /** A polled device's id and state, read like a discovered device (the discovery `device.id`, the whole item). */
  deviceId: Expr;
  state: Expr;
}

export const DEFAULT_POLL_CREDENTIAL_TTL_SECONDS = 3600;

/** A confirmation call leaves room for the handshake's answer inside the sender's usual wait. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 1000;

/** A handshake that calls a URL from the delivery before it is answered (engine/webhook/handshake.ts). */
export interface CompiledHandshakeConfirm {
  url: Expr;
  method: "GET" | "POST";
  allowedHosts: string[];
  timeoutMs: number;
}

/** Replays of id-less webhook events are usually seconds to minutes apart (vendor retry schedules). */
export const DEFAULT_DUPLICATE_WINDOW_SECONDS = 300;

export interface CompiledWebhooks {
  verify: CompiledVerify;
  handshakes: Array<{ when: Expr; verify: boolean; confirm?: CompiledHandshakeConfirm; respond: { status: number; body?: Expr } }>;
  events: Expr;
  ignore?: Expr;
  eventId?: Expr;
  /** Without `eventId`: seconds within which an event of identical content counts as a replay (0: off). */
  duplicateWindowSeconds?: number;
  order?: Expr;
  userId?: Expr;
  deviceId: Expr;
  state: Expr;
  profile?: Expr;
  /** Where a delivery's events go when MI stays unavailable (vendors that do not redeliver). */
  buffer?: { queueUrlEnv: string };
}

export interface CompiledBundle {
  formatVersion: 1;
  vendor: { id: string; name: string };
  /** Bundle folder relative to the repository (for messages). */
  source: string;
  settings: Record<string, unknown>;
  oauth?: Oauth;
  generalAuthorization?: GeneralAuthorization;
  api: {
    baseUrl: string;
    auth: { in: "header" | "query"; name: string; prefix: string };
    headers: Record<string, string>;
    timeoutMs: number;
    retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; retryOn: number[] };
    statusMap: Record<string, number>;
    /** Host patterns every call must match (absent: only the hosts written in the bundle). */
    allowedHosts?: string[];
    baseUrlFrom?: Expr;
    /** Headers computed per call from expressions (token, account, settings). */
    dynamicHeaders?: Record<string, ValueSpec>;
    signing?: CompiledSigning;
    errors?: CompiledErrorRule[];
    /** Absent in bundles compiled before limits existed: API_DEFAULTS.limits apply. */
    limits?: { commandsPerRequest: number; vendorRequestsPerInvocation: number };
    /** Counts every call of the API (absent: no API-wide quota). */
    quota?: CompiledQuota;
  };
  /** Per-user account values and the bootstrap that obtains them. */
  account?: CompiledAccount;
  operations: {
    activateUser: { requests: CompiledCall[]; userId: Expr };
    discoverDevices: {
      requests: CompiledCall[];
      list: CompiledCall;
      devices: Expr;
      userId: Expr;
      device: { id: Expr; name?: Expr; brand?: Expr; model?: Expr; nodeId?: Expr; metadata?: Expr };
      filterQuery?: Record<string, ValueSpec>;
      perDevice?: { requests: CompiledCall[]; device: Expr; concurrency: number; ratePerSecond?: number };
    };
    /** `requests` in order; `joined` when declared as several requests (`device` then reads `responses`). */
    getDevice?: { requests: CompiledCall[]; joined: boolean; device: Expr };
    deactivateUser: { requests: CompiledCall[]; userId?: Expr };
  };
  /** In file order: the first profile whose `match` is true wins. */
  profiles: CompiledProfile[];
  webhooks?: CompiledWebhooks;
  /** Scheduled polling for vendors without push (engine/polling). */
  polling?: CompiledPolling;
}

export interface CompiledSigning {
  algorithm: "HMAC-SHA256";
  key: { env?: string; secretField?: string; account?: string };
  stringToSign: Expr;
  encoding: "hex" | "HEX" | "base64";
  headers: Record<string, ValueSpec>;
}

export interface CompiledAccount {
  bootstrap: CompiledCall[];
  values: Array<{ name: string; expr: Expr; secret: boolean }>;
  /** Vendor statuses meaning the stored values are stale: re-bootstrap, retry the call once. */
  refreshOn: number[];
}

/** Engine defaults, written down once (README "Mapping format"). */
export const API_DEFAULTS = {
  timeoutMs: 1000,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, retryOn: [429, 500, 502, 503, 504] },
  auth: { in: "header" as const, name: "Authorization", prefix: "Bearer " },
  /** Hard limits (mapping `api.limits`): generous for real use, small enough that one request cannot flood a vendor. */
  limits: { commandsPerRequest: 50, vendorRequestsPerInvocation: 200 },
};
