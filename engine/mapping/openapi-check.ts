/**
 * Checks the vendor calls a mapping declares against the vendor's OpenAPI document (named by
 * `api.openapi`), so a typo in a path or a wrong method is caught by `c2c validate` and not by the
 * first real user. Only what OpenAPI states for sure is checked: the path exists, the method exists
 * on it, the path parameters are declared; query parameters the document does not list are
 * reported as warnings (documents are often incomplete there).
 */
import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parse } from "yaml";
import { fieldPath, isRecord, pathPlaceholders, resolveCall, type ResolvedCall } from "./calls.ts";
import { didYouMean, toPointer, type Diagnostic, type Segment } from "./diagnostics.ts";
import type { LoadedYaml } from "./load.ts";

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

interface OpenApiParameter {
  name: string;
  in: string;
}

interface OpenApiOperationInfo {
  parameters: OpenApiParameter[];
}

interface OpenApiPath {
  /** Template as written in the document, e.g. "/lights/{selector}". */
  template: string;
  /** Server base path + template, e.g. "/v1/lights/{selector}". */
  full: string;
  operations: Map<string, OpenApiOperationInfo>;
}

export interface OpenApiIndex {
  paths: OpenApiPath[];
}

/** A call as written in the mapping: its method and path template, and where it is declared. */
export interface DeclaredCall {
  method: string;
  path: string;
  baseUrl?: string;
  pathParams: string[];
  /** Query parameter names, each with the document path of its value. */
  query: Array<{ name: string; at: Segment[] }>;
  /** Document path of the `path` value (where diagnostics point). */
  pathAt: Segment[];
  methodAt: Segment[];
  label: string;
}

/** Reads `api.openapi` of the mapping and checks every declared call; [] when the bundle names no document. */
export async function checkCallsAgainstOpenApi(loaded: LoadedYaml, bundleDir: string): Promise<Diagnostic[]> {
  const doc = loaded.value;
  if (!isRecord(doc) || !isRecord(doc.api) || typeof doc.api.openapi !== "string") return [];
  const specFile = resolve(bundleDir, doc.api.openapi);
  let text: string;
  try {
    text = await readFile(specFile, "utf8");
  } catch {
    return []; // bundle.ts reports a missing document once (bundle/missing-file)
  }
  const at = loaded.positionOf(["api", "openapi"]);
  /** The document named by `api.openapi` cannot be used: one error at that key. */
  const unreadable = (message: string): Diagnostic => ({ severity: "error", file: loaded.file, ...at, path: "/api/openapi", rule: "openapi/unreadable", message });
  let spec: unknown;
  try {
    spec = parse(text);
  } catch (err) {
    return [unreadable(`${relative(process.cwd(), specFile)} is not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`)];
  }
  const index = indexOpenApi(spec);
  if (!index) {
    return [unreadable(`${relative(process.cwd(), specFile)} has no \`paths\` object: is it an OpenAPI document?`)];
  }
  const baseUrl = typeof doc.api.baseUrl === "string" ? doc.api.baseUrl : undefined;
  return checkCalls(declaredCalls(doc), index, baseUrl, loaded);
}

/** The paths and operations of an OpenAPI 3 (or Swagger 2) document; undefined when it has no `paths`. */
export function indexOpenApi(spec: unknown): OpenApiIndex | undefined {
  if (!isRecord(spec) || !isRecord(spec.paths)) return undefined;
  const basePath = serverBasePath(spec);
  const paths: OpenApiPath[] = [];
  for (const [template, item] of Object.entries(spec.paths)) {
    if (!isRecord(item)) continue;
    const shared = parameters(item.parameters, spec);
    const operations = new Map<string, OpenApiOperationInfo>();
    for (const m of HTTP_METHODS) {
      const op = item[m];
      if (!isRecord(op)) continue;
      // Operation parameters override path-item parameters with the same name and location.
      const own = parameters(op.parameters, spec);
      const merged = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      operations.set(m.toUpperCase(), { parameters: merged });
    }
    paths.push({ template, full: joinPaths(basePath, template), operations });
  }
  return { paths };
}

function serverBasePath(spec: Record<string, unknown>): string {
  if (typeof spec.basePath === "string") return spec.basePath; // Swagger 2
  const server = Array.isArray(spec.servers) ? spec.servers[0] : undefined;
  if (!isRecord(server) || typeof server.url !== "string") return "";
  try {
    // Server variables ({region}) only occur in the host in practice; braces are kept in the path.
    return decodeURI(new URL(server.url.replace(/\{[^}]*\}/g, "x"), "http://relative.invalid").pathname);
  } catch {
    return "";
  }
}

function parameters(list: unknown, spec: Record<string, unknown>): OpenApiParameter[] {
  if (!Array.isArray(list)) return [];
  const out: OpenApiParameter[] = [];
  for (const p of list) {
    const param = isRecord(p) && typeof p.$ref === "string" ? localRef(spec, p.$ref) : p;
    if (isRecord(param) && typeof param.name === "string" && typeof param.in === "string") out.push({ name: param.name, in: param.in });
  }
  return out;
}

/** Resolves "#/components/parameters/Selector"; remote references are not followed. */
function localRef(spec: Record<string, unknown>, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = spec;
  for (const seg of ref.slice(2).split("/")) {
    if (!isRecord(node)) return undefined;
    node = node[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return node;
}

function joinPaths(base: string, path: string): string {
  const b = base.replace(/\/+$/, "");
  return (b + (path.startsWith("/") ? path : "/" + path)) || "/";
}

/**
 * Every place that declares a method and a path: named calls, and the call sites (operation
 * requests, commands, attribute writes) that write their own method or path instead of only
 * reusing a named call, which is checked where it is declared.
 */
export function declaredCalls(doc: Record<string, unknown>): DeclaredCall[] {
  const out: DeclaredCall[] = [];
  const calls = doc.calls;
  const add = (site: unknown, at: Segment[], label: string, ownOnly: boolean) => {
    if (!isRecord(site)) return;
    const resolved = resolveCall(calls, site, at);
    if (!resolved.ok) return; // the semantic check reports unknown `use:` names
    const call = resolved.call;
    if (ownOnly && !sameOrigin(call, at, "path") && !sameOrigin(call, at, "method")) return;
    const f = call.fields;
    if (typeof f.method !== "string" || typeof f.path !== "string") return;
    out.push({
      method: f.method.toUpperCase(),
      path: f.path,
      baseUrl: typeof f.baseUrl === "string" ? f.baseUrl : undefined,
      pathParams: isRecord(f.pathParams) ? Object.keys(f.pathParams) : [],
      query: isRecord(f.query) ? Object.keys(f.query).map((name) => ({ name, at: fieldPath(call, "query", name) })) : [],
      pathAt: [...(call.origin.get("path") ?? at), "path"],
      methodAt: [...(call.origin.get("method") ?? at), "method"],
      label,
    });
  };
  const sites = (node: unknown, at: Segment[], label: string) => {
    if (!isRecord(node)) return;
    if (Array.isArray(node.requests)) node.requests.forEach((r, i) => add(r, [...at, "requests", i], `${label} request ${i + 1}`, true));
    else add(node, at, label, true);
  };

  if (isRecord(calls)) for (const [name, c] of Object.entries(calls)) add(c, ["calls", name], `call ${name}`, false);

  const ops = isRecord(doc.operations) ? doc.operations : {};
  for (const [opName, op] of Object.entries(ops)) {
    if (!isRecord(op)) continue;
    if (Array.isArray(op.requests)) op.requests.forEach((r, i) => add(r, ["operations", opName, "requests", i], `${opName} request ${i + 1}`, true));
    if (isRecord(op.list)) add(op.list, ["operations", opName, "list"], `${opName}.list`, true);
    if (isRecord(op.request)) add(op.request, ["operations", opName, "request"], `${opName}.request`, true);
  }

  const profiles = isRecord(doc.profiles) ? doc.profiles : {};
  for (const [pName, profile] of Object.entries(profiles)) {
    if (!isRecord(profile) || !Array.isArray(profile.endpoints)) continue;
    profile.endpoints.forEach((ep, ei) => {
      if (!isRecord(ep) || !isRecord(ep.clusters)) return;
      for (const [cName, cluster] of Object.entries(ep.clusters)) {
        if (!isRecord(cluster)) continue;
        const base: Segment[] = ["profiles", pName, "endpoints", ei, "clusters", cName];
        if (isRecord(cluster.commands)) {
          for (const [cmd, spec] of Object.entries(cluster.commands)) sites(spec, [...base, "commands", cmd], `command ${cName}.${cmd}`);
        }
        if (isRecord(cluster.attributes)) {
          for (const [attr, spec] of Object.entries(cluster.attributes)) {
            if (isRecord(spec) && isRecord(spec.write)) sites(spec.write, [...base, "attributes", attr, "write"], `write of ${cName}.${attr}`);
          }
        }
      }
    });
  }
  return out;
}

function sameOrigin(call: ResolvedCall, at: Segment[], field: string): boolean {
  const origin = call.origin.get(field);
  return !!origin && toPointer(origin) === toPointer(at);
}

function checkCalls(calls: DeclaredCall[], index: OpenApiIndex, apiBaseUrl: string | undefined, loaded: LoadedYaml): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const basePath = urlPath(apiBaseUrl);
  for (const call of calls) {
    // A call to another host (an OAuth server, a second API) is not described by this document.
    if (call.baseUrl !== undefined && call.baseUrl !== apiBaseUrl) continue;
    const key = `${toPointer(call.pathAt)} ${toPointer(call.methodAt)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const diag = (at: Segment[], severity: Diagnostic["severity"], rule: string, message: string, hint?: string): Diagnostic => ({
      severity,
      file: loaded.file,
      ...loaded.positionOf(at),
      path: toPointer(at),
      rule,
      message,
      ...(hint ? { hint } : {}),
    });

    const match = findPath(index, call.path, basePath);
    if (!match) {
      const known = index.paths.map((p) => p.template);
      out.push(
        diag(call.pathAt, "error", "openapi/unknown-path", `${call.label}: path ${call.path} is not in the OpenAPI document`, didYouMean(closest(call.path, known)) ?? `documented paths: ${known.slice(0, 8).join(", ")}`),
      );
      continue;
    }
    const op = match.operations.get(call.method);
    if (!op) {
      const methods = [...match.operations.keys()];
      out.push(
        diag(call.methodAt, "error", "openapi/unknown-method", `${call.label}: ${call.method} ${match.template} is not documented`, methods.length ? `the document has ${methods.join(", ")} for this path` : undefined),
      );
      continue;
    }
    // Placeholder names may differ between the mapping and the document; positions pair them.
    const mine = pathPlaceholders(call.path);
    const theirs = pathPlaceholders(match.template);
    const declared = new Set(op.parameters.filter((p) => p.in === "path").map((p) => p.name));
    mine.forEach((name, i) => {
      const theirName = theirs[i];
      if (theirName !== undefined && !declared.has(theirName)) {
        out.push(
          diag(call.pathAt, "warning", "openapi/undeclared-path-param", `${call.label}: the OpenAPI document does not declare path parameter {${theirName}} of ${call.method} ${match.template}`, `the mapping fills it as {${name}}`),
        );
      }
    });
    const queryDeclared = new Set(op.parameters.filter((p) => p.in === "query").map((p) => p.name));
    for (const { name: q, at: qAt } of call.query) {
      if (!queryDeclared.has(q)) {
        out.push(
          diag(qAt, "warning", "openapi/unknown-query-param", `${call.label}: query parameter ${JSON.stringify(q)} is not documented for ${call.method} ${match.template}`, didYouMean(closest(q, [...queryDeclared]))),
        );
      }
    }
  }
  return out;
}

function urlPath(url: string | undefined): string {
  if (!url) return "";
  try {
    return decodeURI(new URL(url).pathname).replace(/\/+$/, "");
  } catch {
    return "";
  }
}

/** The document path a call goes to: compared with and without the base paths, placeholders as wildcards. */
function findPath(index: OpenApiIndex, callPath: string, basePath: string): OpenApiPath | undefined {
  const full = joinPaths(basePath, callPath);
  return (
    index.paths.find((p) => sameShape(p.full, full)) ??
    index.paths.find((p) => sameShape(p.template, callPath)) ??
    index.paths.find((p) => sameShape(p.template, full))
  );
}

function sameShape(a: string, b: string): boolean {
  const sa = segments(a);
  const sb = segments(b);
  if (sa.length !== sb.length) return false;
  return sa.every((s, i) => s === sb[i] || (isParam(s) && isParam(sb[i])));
}

function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function isParam(segment: string): boolean {
  return /^\{[^{}]+\}$/.test(segment);
}

/** Up to two candidates at the smallest edit distance (placeholders count as equal). */
function closest(value: string, candidates: string[]): string[] {
  const norm = (s: string) => s.replace(/\{[^{}]*\}/g, "{}");
  const scored = candidates.map((c) => ({ c, d: distance(norm(value), norm(c)) }));
  const limit = Math.max(2, Math.floor(value.length / 3));
  const best = scored.filter((s) => s.d <= limit).sort((a, b) => a.d - b.d);
  return best.filter((s) => s.d === best[0]?.d).slice(0, 2).map((s) => s.c);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
