/**
 * Checks beyond the JSON Schema: JSONata syntax, Matter references against the cluster table,
 * `use:` references, path placeholders, and that every advertised command has a vendor request.
 * Runs on documents that may also have failed the schema, so every access is defensive and every
 * problem is reported, not only the first.
 */
import jsonata from "jsonata";
import mappingSchema from "../../schemas/mapping.schema.json" with { type: "json" };
import { ClusterTable } from "../matter/cluster-table.ts";
import { requiredClusters } from "../matter/device-types.ts";
import { suggest } from "../matter/suggest.ts";
import type { AttributeDef, ClusterDef, CommandDef } from "../matter/types.ts";
import { checkValue, valueTypeOf } from "../matter/value-type.ts";
import { fieldPath, isRecord, pathPlaceholders, resolveCall } from "./calls.ts";
import { didYouMean, toPointer, type Diagnostic, type Segment } from "./diagnostics.ts";
import { MI_CUSTOM_COMMANDS, parseConfirmKey } from "./matter-refs.ts";
import type { SourceRef } from "./schema-check.ts";
import { checkAccountCapabilities } from "./account-check.ts";
import { conformanceOf, describeFeatures } from "./conformance-check.ts";
import { featureMapOf, featuresRequiredBy } from "../matter/features.ts";

type Json = Record<string, unknown>;

/** Collects diagnostics with positions; duplicates (same place, rule and message) are dropped. */
class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly source: SourceRef) {}

  error(path: Segment[], rule: string, message: string, hint?: string, onKey = false): void {
    this.add("error", path, rule, message, hint, onKey);
  }

  warning(path: Segment[], rule: string, message: string, hint?: string, onKey = false): void {
    this.add("warning", path, rule, message, hint, onKey);
  }

  private add(severity: Diagnostic["severity"], path: Segment[], rule: string, message: string, hint: string | undefined, onKey: boolean): void {
    const pointer = toPointer(path);
    const at = onKey ? this.source.keyPositionOf(path) : this.source.positionOf(path);
    // Keyed by position, not pointer: a YAML anchor reused by several profiles is one problem.
    const key = `${at.line}:${at.col}|${rule}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push({ severity, file: this.source.file, line: at.line, col: at.col, path: pointer, rule, message, ...(hint ? { hint } : {}) });
  }
}

/** All semantic checks of a connector.yaml document. */
export function checkSemantics(doc: unknown, source: SourceRef, table: ClusterTable = ClusterTable.default()): Diagnostic[] {
  const report = new Reporter(source);
  if (!isRecord(doc)) return report.diagnostics;
  checkExpressions(doc, report);
  checkCallSites(doc, report);
  checkProfiles(doc, report, table);
  checkWebhookVerify(doc, report);
  checkAccountCapabilities(doc, report);
  checkPolling(doc, report);
  return report.diagnostics;
}

// ---------------------------------------------------------------------------------------------
// polling: a poll reads one page of the discovery listing, without per-device calls.

function checkPolling(doc: Json, report: Reporter): void {
  if (!isRecord(doc.polling)) return;
  const ops = isRecord(doc.operations) ? doc.operations : {};
  const discover = isRecord(ops.discoverDevices) ? ops.discoverDevices : {};
  const list = isRecord(discover.list) ? discover.list : {};
  const calls = isRecord(doc.calls) ? doc.calls : {};
  const used = typeof list.use === "string" && isRecord(calls[list.use]) ? (calls[list.use] as Json) : {};
  if (list.pagination !== undefined || used.pagination !== undefined) {
    report.warning(["polling"], "polling/first-page-only", "polls read the first page of a paginated discovery listing only", "devices on later pages are not polled");
  }
  if (discover.perDevice !== undefined) {
    report.error(["polling"], "polling/per-device-calls", "polling reads the discovery listing only; `discoverDevices.perDevice` calls are not made by polls", "poll a listing that carries each device's state");
  }
}

// ---------------------------------------------------------------------------------------------
// webhooks.verify: what each scheme needs, and no unauthenticated endpoint by accident.

const HTTP_SIGNATURE_ALGORITHMS = new Set(["rsa-sha256", "rsa-pss-sha512", "ecdsa-sha256", "ecdsa-p384-sha384", "ed25519"]);

function checkWebhookVerify(doc: Json, report: Reporter): void {
  const webhooks = doc.webhooks;
  if (!isRecord(webhooks) || !isRecord(webhooks.verify)) return;
  const v = webhooks.verify;
  const at = (...rest: Segment[]): Segment[] => ["webhooks", "verify", ...rest];
  const algorithms = Array.isArray(v.algorithms) ? (v.algorithms as unknown[]).filter((a): a is string => typeof a === "string") : undefined;
  switch (v.scheme) {
    case "none":
      // Every bundle with webhooks gets a public function URL: anyone could post device events.
      if (v.insecure !== true || typeof v.reason !== "string" || v.reason.trim() === "") {
        report.error(at("scheme"), "webhooks/unauthenticated", "verify scheme none leaves the public function URL open to anyone", "declare a signature scheme, or `insecure: true` with a `reason`");
      } else {
        report.warning(at("insecure"), "webhooks/insecure", `webhook deliveries are not authenticated: ${v.reason}`);
      }
      break;
    case "httpSignature":
      if (!algorithms || algorithms.length === 0) report.error(at("scheme"), "webhooks/verify-options", "httpSignature needs `algorithms` (the allow-list)");
      else algorithms.forEach((a, i) => HTTP_SIGNATURE_ALGORITHMS.has(a) || report.error(at("algorithms", i), "webhooks/verify-options", `${a} is not an HTTP message signature algorithm`, [...HTTP_SIGNATURE_ALGORITHMS].join(", ")));
      if ((v.publicKey === undefined) === (v.keyUrl === undefined)) report.error(at("scheme"), "webhooks/verify-options", "httpSignature needs exactly one of `publicKey` or `keyUrl`");
      break;
    case "jwt":
      if (typeof v.jwksUrl !== "string") report.error(at("scheme"), "webhooks/verify-options", "jwt needs `jwksUrl`");
      if (v.issuer === undefined) report.error(at("scheme"), "webhooks/verify-options", "jwt needs `issuer`");
      if (v.audience === undefined && v.audienceEnv === undefined) report.error(at("scheme"), "webhooks/verify-options", "jwt needs `audience` or `audienceEnv`: a token minted for another endpoint must not be accepted");
      if (!algorithms || algorithms.length === 0) report.error(at("scheme"), "webhooks/verify-options", "jwt needs `algorithms` (the allow-list)");
      else algorithms.forEach((a, i) => HTTP_SIGNATURE_ALGORITHMS.has(a) && report.error(at("algorithms", i), "webhooks/verify-options", `${a} is not a JWS algorithm name`, "RS256, ES256, EdDSA, ..."));
      break;
  }
  if (v.scheme !== "none" && v.insecure !== undefined) report.error(at("insecure"), "webhooks/verify-options", "`insecure` only goes with scheme none");
}

// ---------------------------------------------------------------------------------------------
// JSONata syntax, driven by where the schema says an expression goes.

type SchemaNode = Record<string, unknown>;
const definitions = (mappingSchema as { definitions: Record<string, SchemaNode> }).definitions;
const EXPRESSION_REFS = new Set(["#/definitions/expression", "#/definitions/value"]);

function checkExpressions(doc: Json, report: Reporter): void {
  walkSchema(mappingSchema as SchemaNode, doc, [], (src, path) => {
    if (src.trim() === "") return; // the schema reports empty expressions
    try {
      jsonata(src);
    } catch (err) {
      const e = err as { message?: string; position?: number; token?: string };
      const where = typeof e.position === "number" ? ` at character ${e.position}` : "";
      report.error(path, "jsonata/syntax", `invalid JSONata expression${where}: ${e.message ?? String(err)}`, `expression: ${preview(src)}`);
    }
  });
}

function walkSchema(schema: SchemaNode, value: unknown, path: Segment[], visit: (src: string, path: Segment[]) => void): void {
  if (typeof schema.$ref === "string") {
    if (EXPRESSION_REFS.has(schema.$ref)) {
      if (typeof value === "string") visit(value, path);
      return;
    }
    const target = deref(schema.$ref);
    if (target) walkSchema(target, value, path, visit);
    return;
  }
  if (Array.isArray(schema.oneOf)) {
    const branch = (schema.oneOf as SchemaNode[]).find((b) => branchFits(b, value));
    if (branch) walkSchema(branch, value, path, visit);
    return;
  }
  if (isRecord(value)) {
    const properties = (schema.properties ?? {}) as Record<string, SchemaNode>;
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key] ?? (isRecord(schema.additionalProperties) ? (schema.additionalProperties as SchemaNode) : undefined);
      if (childSchema) walkSchema(childSchema, child, [...path, key], visit);
    }
  } else if (Array.isArray(value) && isRecord(schema.items)) {
    value.forEach((item, i) => walkSchema(schema.items as SchemaNode, item, [...path, i], visit));
  }
}

function deref(ref: string): SchemaNode | undefined {
  const match = /^#\/definitions\/(.+)$/.exec(ref);
  return match ? definitions[match[1]] : undefined;
}

function branchFits(branch: SchemaNode, value: unknown): boolean {
  const resolved = typeof branch.$ref === "string" ? (EXPRESSION_REFS.has(branch.$ref) ? { type: "string" } : deref(branch.$ref)) : branch;
  const type = resolved?.type;
  if (type === "string") return typeof value === "string";
  if (type === "object") return isRecord(value);
  if (type === "array") return Array.isArray(value);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Vendor calls: `use:` references, completeness, path placeholders, pagination.

/** Every operation call site; commands and attribute writes are handled with the profiles. */
function checkCallSites(doc: Json, report: Reporter): void {
  const ops = isRecord(doc.operations) ? doc.operations : {};
  const lists: Array<[string, Segment[]]> = [
    ["activateUser", ["operations", "activateUser", "requests"]],
    ["discoverDevices", ["operations", "discoverDevices", "requests"]],
    ["deactivateUser", ["operations", "deactivateUser", "requests"]],
  ];
  for (const [op, path] of lists) {
    const requests = isRecord(ops[op]) ? (ops[op] as Json).requests : undefined;
    if (Array.isArray(requests)) requests.forEach((call, i) => checkCall(doc, call, [...path, i], report));
  }
  const bootstrap = isRecord(doc.account) && isRecord(doc.account.bootstrap) ? doc.account.bootstrap.requests : undefined;
  if (Array.isArray(bootstrap)) bootstrap.forEach((call, i) => checkCall(doc, call, ["account", "bootstrap", "requests", i], report));
  const discover = isRecord(ops.discoverDevices) ? ops.discoverDevices : undefined;
  if (discover && isRecord(discover.list)) checkCall(doc, discover.list, ["operations", "discoverDevices", "list"], report);
  const getDevice = isRecord(ops.getDevice) ? ops.getDevice : undefined;
  if (getDevice && isRecord(getDevice.request)) checkCall(doc, getDevice.request, ["operations", "getDevice", "request"], report);
  if (getDevice) {
    const several = Array.isArray(getDevice.requests) && getDevice.requests.length > 0;
    if (several) (getDevice.requests as unknown[]).forEach((call, i) => checkCall(doc, call, ["operations", "getDevice", "requests", i], report));
    if (several === (getDevice.request !== undefined)) {
      report.error(["operations", "getDevice"], "mapping/get-device-requests", several ? "getDevice has both `request` and `requests`" : "getDevice declares no request", "give one `request` (device reads its body) or several named `requests` (device reads `responses`)", true);
    }
  }
  const perDevice = discover && isRecord(discover.perDevice) ? discover.perDevice : undefined;
  if (perDevice && Array.isArray(perDevice.requests)) {
    perDevice.requests.forEach((call, i) => checkCall(doc, call, ["operations", "discoverDevices", "perDevice", "requests", i], report));
  }
  // Named calls may be partial templates; they are checked where they are used.
  if (isRecord(doc.calls)) {
    for (const [name, call] of Object.entries(doc.calls)) {
      if (isRecord(call)) {
        const resolution = resolveCall(doc.calls, call, ["calls", name]);
        if (!resolution.ok) reportResolution(resolution, report);
      }
    }
  }
}

function checkCall(doc: Json, site: unknown, path: Segment[], report: Reporter): void {
  if (!isRecord(site)) return;
  const resolution = resolveCall(doc.calls, site, path);
  if (!resolution.ok) {
    reportResolution(resolution, report);
    return;
  }
  const call = resolution.call;
  const f = call.fields;
  if (f.method === undefined || f.path === undefined) {
    const missing = [f.method === undefined ? "method" : undefined, f.path === undefined ? "path" : undefined].filter(Boolean).join(" and ");
    report.error(path, "mapping/incomplete-call", `vendor request has no ${missing}`, "give `method` and `path`, or `use: <named call>`", true);
  }
  if (typeof f.path === "string") {
    const placeholders = pathPlaceholders(f.path);
    const params = isRecord(f.pathParams) ? f.pathParams : {};
    for (const name of placeholders) {
      if (!(name in params)) {
        report.error(fieldPath(call, "path"), "mapping/path-params", `path placeholder {${name}} has no pathParams entry`, `add pathParams: { ${name}: <expression> }`);
      }
    }
    for (const name of Object.keys(params)) {
      if (!placeholders.includes(name)) {
        report.error(fieldPath(call, "pathParams", name), "mapping/path-params", `pathParams entry "${name}" has no {${name}} placeholder in path ${JSON.stringify(f.path)}`, undefined, true);
      }
    }
  }
  const pagination = f.pagination;
  if (isRecord(pagination)) {
    const at = fieldPath(call, "pagination");
    if ((pagination.style === "cursor" || pagination.style === "page") && pagination.param === undefined) {
      report.error(at, "mapping/pagination", `${pagination.style} pagination needs \`param\` (the query parameter carrying the ${pagination.style === "cursor" ? "cursor" : "page number"})`, undefined, true);
    }
    if ((pagination.style === "cursor" || pagination.style === "url" || pagination.style === "request") && pagination.next === undefined) {
      const what = pagination.style === "url" ? "the next page's URL" : pagination.style === "request" ? "the value the next request is built from (`cursor`)" : "the next cursor";
      report.error(at, "mapping/pagination", `${pagination.style} pagination needs \`next\` (expression over \`response\` giving ${what})`, undefined, true);
    }
  }
}

function reportResolution(resolution: Exclude<ReturnType<typeof resolveCall>, { ok: true }>, report: Reporter): void {
  if (resolution.problem === "unknown-use") {
    const hint = didYouMean(suggest(resolution.name, resolution.known)) ?? (resolution.known.length ? `calls defines: ${resolution.known.join(", ")}` : "the bundle defines no `calls`");
    report.error(resolution.at, "mapping/unknown-call", `use: "${resolution.name}" is not defined in calls`, hint);
  } else {
    report.error(resolution.at, "mapping/use-cycle", `named calls use each other in a cycle: ${resolution.chain.join(" -> ")}`);
  }
}

/** A command or attribute write: one request (inline or `use`) or a `requests` list. */
function checkAction(doc: Json, action: unknown, path: Segment[], what: string, report: Reporter): void {
  if (!isRecord(action)) return;
  const inline = action.use !== undefined || action.method !== undefined || action.path !== undefined;
  const requests = action.requests;
  if (Array.isArray(requests) && requests.length > 0) {
    if (inline) {
      report.error(path, "mapping/ambiguous-request", `${what} has both \`requests\` and an inline request`, "keep one: `requests: [...]` or `use`/`method`+`path`", true);
    }
    requests.forEach((call, i) => checkCall(doc, call, [...path, "requests", i], report));
    checkCommandReads(doc, action, path, report);
    return;
  }
  if (!inline) {
    report.error(path, "mapping/command-without-request", `${what} declares no vendor request`, "add `use: <named call>`, `method` and `path`, or `requests`", true);
    return;
  }
  checkCall(doc, action, path, report);
  checkCommandReads(doc, action, path, report);
}

/** `verify` reads the device again and `affects` lists the account's devices: both need their operation. */
function checkCommandReads(doc: Json, action: Json, path: Segment[], report: Reporter): void {
  const ops = isRecord(doc.operations) ? doc.operations : {};
  if (action.verify !== undefined && !isRecord(ops.getDevice)) {
    report.error([...path, "verify"], "mapping/verify-needs-get-device", "`verify` reads the device again, but the mapping declares no operations.getDevice", "add operations.getDevice, or leave `verify` out (a lost answer is then re-sent only when the call is `idempotent`)", true);
  }
  if (action.readBack !== undefined && !isRecord(ops.getDevice)) {
    report.error([...path, "readBack"], "mapping/read-back-needs-get-device", "`readBack` reads the device again after the command, but the mapping declares no operations.getDevice", "add operations.getDevice, or leave `readBack` out (the command then confirms what `confirms` says)", true);
  }
  if (action.batch !== undefined && Array.isArray(action.requests) && action.requests.length > 0) {
    report.warning([...path, "batch"], "mapping/batch-multi-request", "`batch` applies to single-request commands; this command has `requests` and is sent alone", undefined, true);
  }
}

// ---------------------------------------------------------------------------------------------
// Profiles: Matter references and per-endpoint consistency.

function checkProfiles(doc: Json, report: Reporter, table: ClusterTable): void {
  if (!isRecord(doc.profiles)) return;
  const hasGetDevice = isRecord(doc.operations) && doc.operations.getDevice !== undefined;
  for (const [profileName, profile] of Object.entries(doc.profiles)) {
    if (!isRecord(profile) || !Array.isArray(profile.endpoints)) continue;
    let readable = false;
    const endpointIds = new Set<string>();
    profile.endpoints.forEach((endpoint, i) => {
      if (!isRecord(endpoint)) return;
      const path: Segment[] = ["profiles", profileName, "endpoints", i];
      if (typeof endpoint.id === "string") {
        if (endpointIds.has(endpoint.id)) report.error([...path, "id"], "mapping/duplicate-endpoint", `endpoint id "${endpoint.id}" is used twice in profile ${profileName}`);
        endpointIds.add(endpoint.id);
      }
      const generated = endpoint.forEach !== undefined;
      if (generated === (endpoint.id !== undefined)) {
        report.error(path, "mapping/endpoint-id", generated ? "an endpoint with `forEach` takes its ids from `idFrom`, not `id`" : "endpoint has no `id`", generated ? "remove `id`; give `idFrom: <expression over the element>`" : "give `id`, or `forEach` + `idFrom` for one endpoint per element", true);
      }
      if (!generated && endpoint.idFrom !== undefined) report.error([...path, "idFrom"], "mapping/endpoint-id", "`idFrom` needs `forEach`", undefined, true);
      if (checkEndpoint(doc, endpoint, path, report, table)) readable = true;
    });
    if (readable && !hasGetDevice) {
      report.warning(["profiles", profileName], "mapping/readstate-needs-getdevice", `profile ${profileName} has readable attributes but operations.getDevice is missing, so ReadState cannot be answered`, "add operations.getDevice (request + device)", true);
    }
  }
}

/** Returns whether the endpoint has an attribute with a read expression. */
function checkEndpoint(doc: Json, endpoint: Json, path: Segment[], report: Reporter, table: ClusterTable): boolean {
  const clusters = isRecord(endpoint.clusters) ? endpoint.clusters : {};
  const resolved = new Map<string, ClusterDef>();
  const seenIds = new Map<number, string>();
  for (const key of Object.keys(clusters)) {
    const def = table.cluster(key);
    const clusterPath = [...path, "clusters", key];
    if (!def) {
      const hint = didYouMean(clusterSuggestions(table, key));
      report.error(clusterPath, "matter/unknown-cluster", `unknown Matter cluster "${key}"`, hint, true);
      continue;
    }
    const earlier = seenIds.get(def.id);
    if (earlier !== undefined) report.error(clusterPath, "matter/duplicate-cluster", `cluster "${key}" is the same cluster as "${earlier}"`, undefined, true);
    seenIds.set(def.id, key);
    resolved.set(key, def);
  }

  let readable = false;
  for (const [key, def] of resolved) {
    const cluster = clusters[key];
    if (!isRecord(cluster)) continue;
    if (checkCluster(doc, def, cluster, [...path, "clusters", key], resolved, report, table)) readable = true;
  }
  checkDeviceTypes(endpoint, path, new Set([...resolved.values()].map((c) => c.id)), report, table);
  checkFeatures(endpoint, path, resolved, report, table);
  return readable;
}

/** Declared featureMaps against the device types' required features and the mapped elements (conformance-check.ts). */
function checkFeatures(endpoint: Json, path: Segment[], resolved: Map<string, ClusterDef>, report: Reporter, table: ClusterTable): void {
  const clusters = isRecord(endpoint.clusters) ? endpoint.clusters : {};
  const deviceTypes = (Array.isArray(endpoint.deviceTypes) ? endpoint.deviceTypes : []).flatMap((ref) => (typeof ref === "string" ? (table.deviceType(ref) ?? []) : []));
  for (const [key, def] of resolved) {
    const cluster = clusters[key];
    if (!isRecord(cluster) || typeof cluster.featureMap !== "number") continue;
    const at = [...path, "clusters", key];
    const keys = (v: unknown) => (isRecord(v) ? Object.keys(v) : []);
    const c = conformanceOf(table, def, deviceTypes, cluster.featureMap, keys(cluster.attributes), keys(cluster.commands));
    if (c.missingFeatures.length) {
      const fixed = featureMapOf([...c.features, ...c.missingFeatures]);
      const names = deviceTypes.filter((dt) => featuresRequiredBy(def, [dt]).some((f) => c.missingFeatures.includes(f))).map((dt) => dt.specName);
      report.warning([...at, "featureMap"], "matter/missing-required-feature", `${names.join(", ")} requires feature ${describeFeatures(c.missingFeatures)} of ${def.name}, which featureMap ${cluster.featureMap} does not set`, `featureMap: ${fixed} (${describeFeatures([...c.features, ...c.missingFeatures])}), and map what the feature makes mandatory`);
    }
    for (const e of c.ruledOut) {
      report.warning([...at, e.kind === "attribute" ? "attributes" : "commands", e.key], "matter/feature-not-declared", `${def.name}.${e.name} (conformance ${e.conformance}) is not part of a cluster with featureMap ${cluster.featureMap} (${describeFeatures(c.features) || "no features"})`, "set the feature's bit in featureMap, or remove the element", true);
    }
  }
}

function checkDeviceTypes(endpoint: Json, path: Segment[], present: Set<number>, report: Reporter, table: ClusterTable): void {
  if (!Array.isArray(endpoint.deviceTypes)) return;
  endpoint.deviceTypes.forEach((ref, i) => {
    if (typeof ref !== "string") return;
    const at = [...path, "deviceTypes", i];
    const dt = table.deviceType(ref);
    if (!dt) {
      report.error(at, "matter/unknown-device-type", `unknown Matter device type "${ref}"`, didYouMean(unique(table.suggestDeviceType(ref).map((n) => table.deviceType(n)?.specName ?? n))));
      return;
    }
    // Utility clusters (Descriptor, Identify, Groups) are not part of a C2C capability report;
    // only application clusters are worth a warning.
    const missing = requiredClusters(dt)
      .map((c) => table.cluster(c.id))
      .filter((c): c is ClusterDef => c !== undefined && c.classification === "application" && !present.has(c.id));
    for (const c of missing) {
      report.warning(at, "matter/missing-required-cluster", `device type ${dt.specName} requires cluster ${c.name} (${c.hexId}), which this endpoint does not map`);
    }
  });
}

function checkCluster(
  doc: Json,
  def: ClusterDef,
  cluster: Json,
  path: Segment[],
  endpointClusters: Map<string, ClusterDef>,
  report: Reporter,
  table: ClusterTable,
): boolean {
  let readable = false;
  const attributes = isRecord(cluster.attributes) ? cluster.attributes : {};
  const seenAttributes = new Map<number, string>();
  for (const [key, attribute] of Object.entries(attributes)) {
    const at = [...path, "attributes", key];
    const attr = table.attribute(def, key);
    if (!attr) {
      report.error(at, "matter/unknown-attribute", `cluster ${def.name} has no attribute "${key}"`, didYouMean(table.suggestAttribute(def, key)), true);
      continue;
    }
    const earlier = seenAttributes.get(attr.id);
    if (earlier !== undefined) report.error(at, "matter/duplicate-attribute", `attribute "${key}" is the same attribute as "${earlier}"`, undefined, true);
    seenAttributes.set(attr.id, key);
    if (typeof attribute === "string") readable = true;
    if (!isRecord(attribute)) continue;
    if (typeof attribute.read === "string") readable = true;
    if ("value" in attribute) checkConstant(def, attr, attribute.value, [...at, "value"], report);
    if (attribute.write !== undefined) {
      if (!attr.writable) {
        report.warning([...at, "write"], "matter/not-writable", `${def.name}.${attr.name} is not writable in Matter (access ${attr.access}); MI will not send UpdateState for it`, undefined, true);
      }
      checkAction(doc, attribute.write, [...at, "write"], `write of ${def.name}.${attr.name}`, report);
      checkConfirms(attribute.write, [...at, "write"], def, endpointClusters, report, table);
    }
  }

  const commands = isRecord(cluster.commands) ? cluster.commands : {};
  for (const [key, command] of Object.entries(commands)) {
    const at = [...path, "commands", key];
    const cmd = table.command(def, key);
    if (!cmd) {
      const custom = MI_CUSTOM_COMMANDS[key.toLowerCase()];
      report.error(at, "matter/unknown-command", `cluster ${def.name} has no command "${key}"`, custom ?? didYouMean(table.suggestCommand(def, key)), true);
      continue;
    }
    checkAction(doc, command, at, `command ${def.name}.${cmd.name}`, report);
    checkZeroAsMissing(command, at, def, cmd, report);
    checkConfirms(command, at, def, endpointClusters, report, table);
    checkResponseFields(command, at, def, cmd, report, table);
  }

  const events = isRecord(cluster.events) ? cluster.events : {};
  for (const [key, event] of Object.entries(events)) {
    const at = [...path, "events", key];
    const ev = table.event(def, key);
    if (!ev) {
      report.error(at, "matter/unknown-event", `cluster ${def.name} has no event "${key}"`, didYouMean(table.suggestEvent(def, key)), true);
      continue;
    }
    const fields = isRecord(event) && isRecord(event.fields) ? event.fields : {};
    for (const field of Object.keys(fields)) {
      if (!table.commandField(ev, field)) {
        report.error([...at, "fields", field], "matter/unknown-field", `event ${def.name}.${ev.name} has no field "${field}"`, didYouMean(table.suggestField(ev, field)), true);
      }
    }
  }
  return readable;
}

/**
 * `fields.TransitionTime ? a : b` takes b for 0, because 0 is falsy in JSONata: a TransitionTime
 * of 0 (instant) would get the vendor's default instead. Any numeric command field tested for
 * truth alone has this problem; the fix is an explicit `$exists(...)` test or a helper such as
 * `$transitionSeconds(fields.TransitionTime, default)`.
 */
function checkZeroAsMissing(action: unknown, path: Segment[], def: ClusterDef, cmd: CommandDef, report: Reporter): void {
  const numeric = new Map(cmd.fields.filter((f) => ["int", "float"].includes(valueTypeOf(f, def).kind)).map((f) => [f.name.toLowerCase(), f.name]));
  if (numeric.size === 0) return;
  visitStrings(action, path, (src, at) => {
    let ast: unknown;
    try {
      ast = jsonata(src).ast();
    } catch {
      return; // reported by the JSONata syntax check
    }
    for (const name of truthTestedFields(ast)) {
      const field = numeric.get(name.toLowerCase());
      if (field) {
        report.warning(at, "jsonata/zero-as-missing", `\`fields.${field} ? ...\` treats ${field} 0 as missing (0 is falsy in JSONata)`, `test $exists(fields.${field}) instead${field === "TransitionTime" ? ", or use $transitionSeconds(fields.TransitionTime, default) / $transitionMillis(...)" : ""}`);
      }
    }
  });
}

function visitStrings(value: unknown, path: Segment[], visit: (src: string, path: Segment[]) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => visitStrings(v, [...path, i], visit));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) visitStrings(v, [...path, k], visit);
}

/** Names of `fields.X` / `$fields.X` paths used as the condition of a `? :`, anywhere in the AST. */
function truthTestedFields(ast: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isRecord(node)) return;
    if (node.type === "condition" && isRecord(node.condition)) {
      const steps = node.condition.type === "path" && Array.isArray(node.condition.steps) ? (node.condition.steps as Json[]) : [];
      const head = steps[0];
      const viaFields = head && ((head.type === "name" && head.value === "fields") || (head.type === "variable" && head.value === "fields"));
      if (viaFields && steps.length === 2 && (steps[1].type === "name" || steps[1].type === "string")) out.push(String(steps[1].value));
    }
    for (const v of Object.values(node)) if (typeof v === "object") walk(v);
  };
  walk(ast);
  return out;
}

function checkConfirms(action: unknown, path: Segment[], def: ClusterDef, endpointClusters: Map<string, ClusterDef>, report: Reporter, table: ClusterTable): void {
  if (!isRecord(action) || !isRecord(action.confirms)) return;
  const onEndpoint = new Set([...endpointClusters.values()].map((c) => c.id));
  for (const key of Object.keys(action.confirms)) {
    const at = [...path, "confirms", key];
    const ref = parseConfirmKey(key);
    let cluster = def;
    if (ref.cluster !== undefined) {
      const other = table.cluster(ref.cluster);
      if (!other) {
        report.error(at, "matter/unknown-cluster", `unknown Matter cluster "${ref.cluster}" in confirms key "${key}"`, didYouMean(clusterSuggestions(table, ref.cluster)), true);
        continue;
      }
      if (!onEndpoint.has(other.id)) {
        report.warning(at, "mapping/confirms-cluster-not-on-endpoint", `confirms ${key}, but cluster ${other.name} is not mapped on this endpoint`, undefined, true);
      }
      cluster = other;
    }
    if (!table.attribute(cluster, ref.attribute)) {
      report.error(at, "matter/unknown-attribute", `cluster ${cluster.name} has no attribute "${ref.attribute}"`, didYouMean(table.suggestAttribute(cluster, ref.attribute)), true);
    }
  }
}

function checkResponseFields(action: unknown, path: Segment[], def: ClusterDef, cmd: CommandDef, report: Reporter, table: ClusterTable): void {
  if (!isRecord(action) || !isRecord(action.responseFields)) return;
  const response = cmd.response === "status" ? undefined : table.responseCommand(def, cmd.response);
  for (const key of Object.keys(action.responseFields)) {
    const at = [...path, "responseFields", key];
    if (!response) {
      report.error(at, "matter/unknown-field", `command ${def.name}.${cmd.name} answers with a status only; it has no response field "${key}"`, undefined, true);
      continue;
    }
    if (!table.commandField(response, key)) {
      report.error(at, "matter/unknown-field", `response ${response.name} of ${def.name}.${cmd.name} has no field "${key}"`, didYouMean(table.suggestField(response, key)), true);
    }
  }
}

/** A constant `value` must be a value of the attribute's Matter type (range, enum member, null only if nullable). */
function checkConstant(def: ClusterDef, attr: AttributeDef, value: unknown, path: Segment[], report: Reporter): void {
  const problem = checkValue(valueTypeOf(attr, def), value);
  if (problem) {
    const type = valueTypeOf(attr, def);
    const hint = type.kind === "enum" ? `members of ${type.type}: ${enumMembers(def, attr.type)}` : undefined;
    report.error(path, "matter/constant-value", `constant of ${def.name}.${attr.name}: ${problem}`, hint);
  }
}

function enumMembers(def: ClusterDef, type: string): string {
  return (def.datatypes[type]?.values ?? []).map((v) => `${v.value} ${v.name}`).join(", ");
}

/** Suggestions name each cluster once (the table offers both "LevelControl" and "Level Control"). */
function clusterSuggestions(table: ClusterTable, name: string): string[] {
  return unique(table.suggestCluster(name).map((n) => table.cluster(n)?.name ?? n));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function preview(src: string): string {
  const oneLine = src.replace(/\s+/g, " ").trim();
  return oneLine.length > 60 ? oneLine.slice(0, 57) + "..." : oneLine;
}
