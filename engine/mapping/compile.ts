/**
 * Turns a validated ConnectorMapping into the CompiledBundle the runtime executes (compiled.ts):
 * Matter references resolved to ids, `use:` merged, defaults filled, and every expression tagged
 * with the file position that declared it. Call only on documents that passed the schema and
 * semantic checks; anything unresolvable here is an internal error and throws.
 */
import { dirname } from "node:path";
import { ClusterTable } from "../matter/cluster-table.ts";
import { formatAttributeId, formatClusterId, formatCommandId, formatEventId, formatFieldId } from "../matter/ids.ts";
import type { ClusterDef, TypedElement } from "../matter/types.ts";
import { valueTypeOf } from "../matter/value-type.ts";
import { fieldPath, resolveCall, type ResolvedCall } from "./calls.ts";
import {
  API_DEFAULTS,
  type CompiledAccount,
  type CompiledAction,
  type CompiledAttribute,
  type CompiledBundle,
  type CompiledCall,
  type CompiledCluster,
  type CompiledCommand,
  type CompiledLimits,
  type CompiledEndpoint,
  type CompiledErrorRule,
  type CompiledQuota,
  type CompiledRefusal,
  type CompiledMatterEvent,
  type CompiledProfile,
  type CompiledSigning,
  type CompiledWebhooks,
  DEFAULT_CONFIRM_TIMEOUT_MS,
  DEFAULT_POLL_CREDENTIAL_TTL_SECONDS,
  DEFAULT_DUPLICATE_WINDOW_SECONDS,
  type Expr,
  type ValueSpec,
} from "./compiled.ts";
import type { Segment } from "./diagnostics.ts";
import type { PositionResolver } from "./load.ts";
import type { Account, Attribute, Call, Cluster, Command, ConnectorMapping, Endpoint, ErrorRule, Profile, Refusal, Webhooks } from "./mapping.types.ts";
import { parseConfirmKey } from "./matter-refs.ts";
import { applyLightingSemantics } from "./lighting.ts";

type TypedLimits = TypedElement["limits"];

export interface CompileOptions {
  /** The connector.yaml path as shown in messages, e.g. "mappings/acme/connector.yaml". */
  file: string;
  positionOf: PositionResolver;
  table?: ClusterTable;
}

export function compileBundle(mapping: ConnectorMapping, opts: CompileOptions): CompiledBundle {
  return new BundleCompiler(mapping, opts).compile();
}

class BundleCompiler {
  private readonly table: ClusterTable;

  constructor(
    private readonly mapping: ConnectorMapping,
    private readonly opts: CompileOptions,
  ) {
    this.table = opts.table ?? ClusterTable.default();
  }

  compile(): CompiledBundle {
    const m = this.mapping;
    const bundle: CompiledBundle = {
      formatVersion: 1,
      vendor: { id: m.vendor.id, name: m.vendor.name },
      source: dirname(this.opts.file),
      settings: { ...(m.settings ?? {}) },
      api: this.api(),
      operations: this.operations(),
      profiles: Object.entries(m.profiles).map(([id, profile]) => this.profile(id, profile)),
    };
    if (m.oauth) bundle.oauth = this.oauth(m.oauth);
    if (m.account) bundle.account = this.account(m.account);
    if (m.generalAuthorization) bundle.generalAuthorization = structuredClone(m.generalAuthorization);
    if (m.webhooks) bundle.webhooks = this.webhooks(m.webhooks);
    if (m.polling) {
      bundle.polling = {
        intervalMinutes: m.polling.intervalMinutes,
        ...(m.polling.requestsPerMinute !== undefined ? { requestsPerMinute: m.polling.requestsPerMinute } : {}),
        credentialTtlSeconds: m.polling.credentialTtlSeconds ?? DEFAULT_POLL_CREDENTIAL_TTL_SECONDS,
        deviceId: bundle.operations.discoverDevices.device.id,
        state: this.expr("$", ["polling"]),
      };
    }
    return bundle;
  }

  // --- positions and expressions -------------------------------------------------------------

  private at(path: Segment[]): string {
    const { line, col } = this.opts.positionOf(path);
    return `${this.opts.file}:${line}:${col}`;
  }

  private expr(src: string, path: Segment[]): Expr {
    return { src, at: this.at(path) };
  }

  private optionalExpr(src: string | undefined, path: Segment[]): Expr | undefined {
    return src === undefined ? undefined : this.expr(src, path);
  }

  private valueSpec(value: unknown, path: Segment[]): ValueSpec {
    if (typeof value === "string") return { expr: this.expr(value, path) };
    return { literal: value as Exclude<ValueSpec, { expr: Expr }>["literal"] };
  }

  private valueMap(map: Record<string, unknown> | undefined, pathOf: (key: string) => Segment[]): Record<string, ValueSpec> {
    const out: Record<string, ValueSpec> = {};
    for (const [key, value] of Object.entries(map ?? {})) out[key] = this.valueSpec(value, pathOf(key));
    return out;
  }

  // --- oauth and account ---------------------------------------------------------------------

  /** `{settings.x}` in the OAuth URLs is replaced here, so the registration carries final URLs. */
  private oauth(oauth: NonNullable<ConnectorMapping["oauth"]>): NonNullable<CompiledBundle["oauth"]> {
    const out = structuredClone(oauth);
    out.authorizationUrl = substituteSettings(oauth.authorizationUrl, this.mapping.settings ?? {});
    out.tokenUrl = substituteSettings(oauth.tokenUrl, this.mapping.settings ?? {});
    return out;
  }

  private account(account: Account): CompiledAccount {
    const p = (...rest: Segment[]): Segment[] => ["account", ...rest];
    return {
      bootstrap: this.calls(account.bootstrap?.requests, p("bootstrap", "requests")),
      values: Object.entries(account.values).map(([name, v]) =>
        typeof v === "string"
          ? { name, expr: this.expr(v, p("values", name)), secret: false }
          : { name, expr: this.expr(v.from, p("values", name, "from")), secret: v.secret === true },
      ),
      refreshOn: [...(account.refreshOn ?? [])],
    };
  }

  // --- api and calls -------------------------------------------------------------------------

  private api(): CompiledBundle["api"] {
    const api = this.mapping.api;
    return {
      baseUrl: api.baseUrl,
      auth: { ...API_DEFAULTS.auth, ...(api.auth ?? {}) },
      headers: { ...(api.headers ?? {}) },
      timeoutMs: api.timeoutMs ?? API_DEFAULTS.timeoutMs,
      retry: {
        ...API_DEFAULTS.retry,
        ...(api.retry ?? {}),
        retryOn: [...(api.retry?.retryOn ?? API_DEFAULTS.retry.retryOn)],
      },
      statusMap: { ...(api.statusMap ?? {}) },
      ...(api.dynamicHeaders ? { dynamicHeaders: this.valueMap(api.dynamicHeaders, (k) => ["api", "dynamicHeaders", k]) } : {}),
      ...(api.allowedHosts ? { allowedHosts: [...api.allowedHosts] } : {}),
      ...(api.baseUrlFrom !== undefined ? { baseUrlFrom: this.expr(api.baseUrlFrom, ["api", "baseUrlFrom"]) } : {}),
      ...(api.signing ? { signing: this.signing(api.signing) } : {}),
      ...(api.errors?.length ? { errors: this.errorRules(api.errors, ["api", "errors"]) } : {}),
      limits: { ...API_DEFAULTS.limits, ...(api.limits ?? {}) },
      ...(api.quota ? { quota: compileQuota("api", api.quota) } : {}),
    };
  }

  private signing(s: NonNullable<ConnectorMapping["api"]["signing"]>): CompiledSigning {
    return {
      algorithm: s.algorithm ?? "HMAC-SHA256",
      key: { ...s.key },
      stringToSign: this.expr(s.stringToSign, ["api", "signing", "stringToSign"]),
      encoding: s.encoding ?? "hex",
      headers: this.valueMap(s.headers, (k) => ["api", "signing", "headers", k]),
    };
  }

  private errorRules(rules: ErrorRule[] | undefined, path: Segment[]): CompiledErrorRule[] {
    return (rules ?? []).map((r, i) => {
      const out: CompiledErrorRule = { when: this.expr(r.when, [...path, i, "when"]), status: r.status };
      if (r.code !== undefined) out.code = this.expr(r.code, [...path, i, "code"]);
      if (r.message !== undefined) out.message = this.expr(r.message, [...path, i, "message"]);
      return out;
    });
  }


  private refusals(list: Refusal[] | undefined, path: Segment[]): CompiledRefusal[] | undefined {
    if (!list?.length) return undefined;
    return list.map((r, i) => {
      const out: CompiledRefusal = { when: this.expr(r.when, [...path, i, "when"]), status: r.status };
      if (r.message !== undefined) out.message = this.expr(r.message, [...path, i, "message"]);
      return out;
    });
  }

  private call(site: Call | Command, path: Segment[], defaultName: string): CompiledCall {
    const resolution = resolveCall(this.mapping.calls, site as Record<string, unknown>, path);
    if (!resolution.ok) throw new Error(`internal: unresolved call at ${this.at(path)} (${resolution.problem})`);
    const call = resolution.call;
    const f = call.fields as Call;
    if (f.method === undefined || f.path === undefined) throw new Error(`internal: call at ${this.at(path)} has no method or path`);

    const compiled: CompiledCall = {
      name: f.name ?? call.uses[0] ?? defaultName,
      method: f.method,
      path: f.path,
      pathParams: {},
      query: this.valueMap(f.query, (k) => fieldPath(call, "query", k)),
      headers: this.valueMap(f.headers, (k) => fieldPath(call, "headers", k)),
      auth: f.auth ?? "token",
      acceptStatus: [...(f.acceptStatus ?? [])],
      at: this.at(path),
    };
    for (const [key, src] of Object.entries(f.pathParams ?? {})) compiled.pathParams[key] = this.expr(src, fieldPath(call, "pathParams", key));
    if (f.baseUrl !== undefined) compiled.baseUrl = f.baseUrl;
    if (f.sign === false) compiled.sign = false;
    if (f.baseUrlFrom !== undefined) compiled.baseUrlFrom = this.expr(f.baseUrlFrom, fieldPath(call, "baseUrlFrom"));
    if (f.body !== undefined) compiled.body = this.expr(f.body, fieldPath(call, "body"));
    if (f.form !== undefined) compiled.form = this.valueMap(f.form, (k) => fieldPath(call, "form", k));
    if (f.timeoutMs !== undefined) compiled.timeoutMs = f.timeoutMs;
    if (f.success !== undefined) compiled.success = this.expr(f.success, fieldPath(call, "success"));
    if (f.pagination !== undefined) compiled.pagination = this.pagination(call, f.pagination);
    if (f.idempotent === true) compiled.idempotent = true;
    if (f.batch !== undefined) compiled.batch = "items" in f.batch && f.batch.items !== undefined ? { items: f.batch.items, max: f.batch.max ?? 100 } : { merge: "deep" };
    if (f.errors?.length) compiled.errors = this.errorRules(f.errors, fieldPath(call, "errors"));
    // Counted per named call that declares it: every `use:` of it shares one count, also through
    // a call that itself uses it (the name is the declaring call's, not the outermost one's).
    if (f.quota) compiled.quota = compileQuota(`call:${quotaOwner(call) ?? compiled.name}`, f.quota);
    return compiled;
  }

  private pagination(call: ResolvedCall, p: NonNullable<Call["pagination"]>): NonNullable<CompiledCall["pagination"]> {
    const base = fieldPath(call, "pagination");
    const out: NonNullable<CompiledCall["pagination"]> = { style: p.style, start: p.start ?? 1, maxPages: p.maxPages ?? 1000 };
    if (p.param !== undefined) out.param = p.param;
    if (p.next !== undefined) out.next = this.expr(p.next, [...base, "next"]);
    if (p.hasMore !== undefined) out.hasMore = this.expr(p.hasMore, [...base, "hasMore"]);
    return out;
  }

  private calls(list: Call[] | undefined, path: Segment[]): CompiledCall[] {
    return (list ?? []).map((call, i) => this.call(call, [...path, i], `call${i + 1}`));
  }

  // --- operations ----------------------------------------------------------------------------

  private operations(): CompiledBundle["operations"] {
    const ops = this.mapping.operations;
    const p = (...rest: Segment[]): Segment[] => ["operations", ...rest];

    const activate = ops.activateUser;
    const discover = ops.discoverDevices;
    const discoverRequests = this.calls(discover.requests, p("discoverDevices", "requests"));
    const device: CompiledBundle["operations"]["discoverDevices"]["device"] = { id: this.expr(discover.device.id, p("discoverDevices", "device", "id")) };
    for (const key of ["name", "brand", "model", "nodeId", "metadata"] as const) {
      const src = discover.device[key];
      if (src !== undefined) device[key] = this.expr(src, p("discoverDevices", "device", key));
    }

    const out: CompiledBundle["operations"] = {
      activateUser: {
        requests: this.calls(activate.requests, p("activateUser", "requests")),
        userId: this.expr(activate.userId, p("activateUser", "userId")),
      },
      discoverDevices: {
        requests: discoverRequests,
        list: this.call(discover.list, p("discoverDevices", "list"), `call${discoverRequests.length + 1}`),
        devices: this.expr(discover.devices, p("discoverDevices", "devices")),
        userId: this.expr(discover.userId, p("discoverDevices", "userId")),
        device,
      },
      deactivateUser: {
        requests: this.calls(ops.deactivateUser?.requests, p("deactivateUser", "requests")),
      },
    };
    if (discover.filterQuery) out.discoverDevices.filterQuery = this.valueMap(discover.filterQuery, (k) => p("discoverDevices", "filterQuery", k));
    const deactivateUserId = this.optionalExpr(ops.deactivateUser?.userId, p("deactivateUser", "userId"));
    if (deactivateUserId) out.deactivateUser.userId = deactivateUserId;
    if (discover.perDevice) {
      const pd = discover.perDevice;
      out.discoverDevices.perDevice = {
        requests: this.calls(pd.requests, p("discoverDevices", "perDevice", "requests")),
        device: this.expr(pd.device, p("discoverDevices", "perDevice", "device")),
        concurrency: pd.concurrency ?? 4,
      };
      if (pd.ratePerSecond !== undefined) out.discoverDevices.perDevice.ratePerSecond = pd.ratePerSecond;
    }
    if (ops.getDevice) {
      const g = ops.getDevice;
      const joined = g.requests !== undefined && g.requests.length > 0;
      out.getDevice = {
        requests: joined ? this.calls(g.requests, p("getDevice", "requests")) : [this.call(g.request!, p("getDevice", "request"), "call1")],
        joined,
        device: this.expr(g.device, p("getDevice", "device")),
      };
    }
    return out;
  }

  // --- profiles ------------------------------------------------------------------------------

  private profile(id: string, profile: Profile): CompiledProfile {
    const path: Segment[] = ["profiles", id];
    return {
      id,
      match: this.expr(profile.match, [...path, "match"]),
      endpoints: profile.endpoints.map((e, i) => this.endpoint(e, [...path, "endpoints", i])),
    };
  }

  private endpoint(endpoint: Endpoint, path: Segment[]): CompiledEndpoint {
    const resolved = Object.entries(endpoint.clusters).map(([key, cluster]) => ({ key, cluster, def: this.lookup(this.table.cluster(key), "cluster", key, path) }));
    const deviceTypes = endpoint.deviceTypes.map((ref) => this.lookup(this.table.deviceType(ref), "device type", ref, path));
    const clusters = resolved.map(({ key, cluster, def }) => ({ def, compiled: this.cluster(def, cluster, [...path, "clusters", key]) }));
    applyLightingSemantics(clusters, deviceTypes);
    const out: CompiledEndpoint = {
      id: endpoint.forEach !== undefined ? `forEach:${path[path.length - 1]}` : endpoint.id!,
      deviceTypes: deviceTypes.map((dt) => dt.specName),
      clusters: clusters.map((c) => c.compiled),
    };
    if (endpoint.when !== undefined) out.when = this.expr(endpoint.when, [...path, "when"]);
    if (endpoint.forEach !== undefined) {
      out.forEach = this.expr(endpoint.forEach, [...path, "forEach"]);
      out.idFrom = this.expr(endpoint.idFrom ?? "$string(elementIndex + 1)", [...path, endpoint.idFrom !== undefined ? "idFrom" : "forEach"]);
    }
    return out;
  }

  private cluster(def: ClusterDef, cluster: Cluster, path: Segment[]): CompiledCluster {
    const out: CompiledCluster = {
      id: def.id,
      hexId: formatClusterId(def.id),
      name: def.name,
      revision: def.revision,
      attributes: Object.entries(cluster.attributes ?? {}).map(([key, a]) => this.attribute(def, key, a, [...path, "attributes", key])),
      commands: Object.entries(cluster.commands ?? {}).map(([key, c]) => this.command(def, key, c, [...path, "commands", key])),
      events: Object.entries(cluster.events ?? {}).map(([key, e]) => this.event(def, key, e, [...path, "events", key])),
    };
    this.resolveLimits(def, out);
    if (typeof cluster.featureMap === "number") out.featureMap = cluster.featureMap;
    else if (typeof cluster.featureMap === "string") out.featureMapFrom = this.expr(cluster.featureMap, [...path, "featureMap"]);
    return out;
  }

  /**
   * Device limits name attributes; only those this cluster maps can bound a value at run time,
   * so the names resolve to the ids of mapped attributes (limits nothing maps are dropped).
   */
  private resolveLimits(def: ClusterDef, out: CompiledCluster): void {
    const mapped = new Map(out.attributes.map((a) => [a.name, a.id]));
    const resolve = (limits: TypedLimits | undefined): CompiledLimits | undefined => {
      if (!limits) return undefined;
      const ids = (names?: string[]) => (names ?? []).map((n) => mapped.get(n)).filter((id): id is number => id !== undefined);
      const result: CompiledLimits = {};
      if (ids(limits.min).length) result.min = ids(limits.min);
      if (ids(limits.max).length) result.max = ids(limits.max);
      return result.min || result.max ? result : undefined;
    };
    for (const a of out.attributes) {
      const limits = resolve(this.table.attribute(def, a.id)?.limits);
      if (limits) a.limits = limits;
    }
    for (const c of out.commands) {
      const cmd = this.table.command(def, c.id);
      for (const f of c.fields) {
        const limits = resolve(cmd && this.table.commandField(cmd, f.id)?.limits);
        if (limits) f.limits = limits;
      }
    }
  }

  private attribute(cluster: ClusterDef, key: string, attribute: Attribute, path: Segment[]): CompiledAttribute {
    const def = this.lookup(this.table.attribute(cluster, key), "attribute", key, path);
    const out: CompiledAttribute = { id: def.id, hexId: formatAttributeId(def.id), name: def.name, type: def.type, valueType: valueTypeOf(def, cluster), hasConstant: false };
    if (typeof attribute === "string") {
      out.read = this.expr(attribute, path);
      return out;
    }
    if (attribute.read !== undefined) out.read = this.expr(attribute.read, [...path, "read"]);
    if ("value" in attribute) {
      out.constant = structuredClone(attribute.value);
      out.hasConstant = true;
    }
    if (attribute.write !== undefined) out.write = this.action(cluster, attribute.write, [...path, "write"], undefined);
    return out;
  }

  private command(cluster: ClusterDef, key: string, command: Command, path: Segment[]): CompiledCommand {
    const def = this.lookup(this.table.command(cluster, key), "command", key, path);
    return {
      id: def.id,
      hexId: formatCommandId(def.id),
      name: def.name,
      fields: def.fields.map((f) => ({ id: f.id, hexId: formatFieldId(f.id), name: f.name, type: f.type, valueType: valueTypeOf(f, cluster) })),
      action: this.action(cluster, command, path, def.response),
    };
  }

  /** `response`: the command's Matter response ("status" or a response command name). */
  private action(cluster: ClusterDef, command: Command, path: Segment[], response: string | undefined): CompiledAction {
    const requests =
      command.requests && command.requests.length > 0 ? this.calls(command.requests, [...path, "requests"]) : [this.call(command, path, "call1")];

    const confirms = Object.entries(command.confirms ?? {}).map(([key, src]) => {
      const ref = parseConfirmKey(key);
      const target = ref.cluster === undefined ? cluster : this.lookup(this.table.cluster(ref.cluster), "cluster", ref.cluster, path);
      const attr = this.lookup(this.table.attribute(target, ref.attribute), "attribute", key, path);
      return { clusterId: target.id, attributeId: attr.id, expr: this.expr(src, [...path, "confirms", key]), valueType: valueTypeOf(attr, target) };
    });

    const responseCommand = response && response !== "status" ? this.table.responseCommand(cluster, response) : undefined;
    const responseFields = Object.entries(command.responseFields ?? {}).map(([key, src]) => {
      const field = this.lookup(responseCommand && this.table.commandField(responseCommand, key), "response field", key, path);
      return { id: field.id, hexId: formatFieldId(field.id), expr: this.expr(src, [...path, "responseFields", key]), valueType: valueTypeOf(field, cluster) };
    });

    const action: CompiledAction = { requests, confirms, responseFields, at: this.at(path) };
    if (command.verify !== undefined) action.verify = this.expr(command.verify, [...path, "verify"]);
    if (command.affects !== undefined) action.affects = this.expr(command.affects, [...path, "affects"]);
    if (command.readBack) {
      action.readBack = { afterMs: command.readBack.afterSeconds * 1000 };
      if (command.readBack.when !== undefined) action.readBack.when = this.expr(command.readBack.when, [...path, "readBack", "when"]);
    }
    const refuse = this.refusals(command.refuse, [...path, "refuse"]);
    if (refuse) action.refuse = refuse;
    return action;
  }

  private event(cluster: ClusterDef, key: string, event: NonNullable<Cluster["events"]>[string], path: Segment[]): CompiledMatterEvent {
    const def = this.lookup(this.table.event(cluster, key), "event", key, path);
    return {
      id: def.id,
      hexId: formatEventId(def.id),
      name: def.name,
      when: this.expr(event.when, [...path, "when"]),
      fields: Object.entries(event.fields ?? {}).map(([fieldKey, src]) => {
        const field = this.lookup(this.table.commandField(def, fieldKey), "event field", fieldKey, path);
        return { id: field.id, hexId: formatFieldId(field.id), name: field.name, expr: this.expr(src, [...path, "fields", fieldKey]), valueType: valueTypeOf(field, cluster) };
      }),
    };
  }

  // --- webhooks ------------------------------------------------------------------------------

  private webhooks(w: Webhooks): CompiledWebhooks {
    const p = (...rest: Segment[]): Segment[] => ["webhooks", ...rest];
    const out: CompiledWebhooks = {
      verify: structuredClone(w.verify),
      handshakes: (w.handshakes ?? []).map((h, i) => {
        const respond: CompiledWebhooks["handshakes"][number]["respond"] = { status: h.respond.status };
        if (h.respond.body !== undefined) respond.body = this.expr(h.respond.body, p("handshakes", i, "respond", "body"));
        const compiled: CompiledWebhooks["handshakes"][number] = { when: this.expr(h.when, p("handshakes", i, "when")), verify: h.verify ?? true, respond };
        if (h.confirm) {
          compiled.confirm = {
            url: this.expr(h.confirm.url, p("handshakes", i, "confirm", "url")),
            method: h.confirm.method ?? "GET",
            allowedHosts: [...h.confirm.allowedHosts],
            timeoutMs: h.confirm.timeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS,
          };
        }
        return compiled;
      }),
      events: this.expr(w.events, p("events")),
      deviceId: this.expr(w.deviceId, p("deviceId")),
      state: this.expr(w.state, p("state")),
      duplicateWindowSeconds: w.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS,
    };
    for (const key of ["ignore", "eventId", "order", "userId", "profile"] as const) {
      const e = this.optionalExpr(w[key], p(key));
      if (e) out[key] = e;
    }
    if (w.buffer) out.buffer = { queueUrlEnv: w.buffer.queueUrlEnv };
    return out;
  }

  private lookup<T>(found: T | undefined, kind: string, ref: string, path: Segment[]): T {
    if (found === undefined) throw new Error(`internal: unresolved Matter ${kind} "${ref}" at ${this.at(path)}; validate the bundle before compiling`);
    return found;
  }
}

const SETTING_PLACEHOLDER = /\{settings\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `{settings.region}` -> the setting's value; the semantic check has made sure each one exists. */
export function substituteSettings(text: string, settings: Record<string, unknown>): string {
  return text.replace(SETTING_PLACEHOLDER, (_m, name: string) => {
    const v = settings[name];
    if (typeof v !== "string" && typeof v !== "number") throw new Error(`internal: setting ${name} used in an OAuth URL is not a string or number`);
    return String(v);
  });
}

/** Names of the `{settings.x}` placeholders in a text. */
export function settingPlaceholders(text: string): string[] {
  return [...text.matchAll(SETTING_PLACEHOLDER)].map((m) => m[1]);
}

/** The named call whose `quota` this call carries (the one that declares it), or its outermost `use`. */
function quotaOwner(call: ResolvedCall): string | undefined {
  const at = call.origin.get("quota");
  return at?.[0] === "calls" && typeof at[1] === "string" ? at[1] : call.uses[0];
}

function compileQuota(name: string, q: NonNullable<ConnectorMapping["api"]["quota"]>): CompiledQuota {
  return {
    name,
    per: q.per ?? "user",
    ...(q.requestsPerMinute !== undefined ? { requestsPerMinute: q.requestsPerMinute } : {}),
    ...(q.openRequests !== undefined ? { openRequests: q.openRequests } : {}),
  };
}
