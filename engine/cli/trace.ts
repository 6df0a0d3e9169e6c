/**
 * `--trace` output: each vendor request and response, each JSONata evaluation with the YAML
 * position that declared it. Everything printed goes through redaction first: the access token
 * (and any other registered secret) never appears, nor do fields named like secrets.
 */
import { resolve } from "node:path";
import type { ExpressionTracer } from "../runtime/expressions.ts";
import { REDACTED, type SecretRegistry } from "../log/redact.ts";
import { untracedRequests } from "../vendor/untraced.ts";
import { displayPath } from "./bundles.ts";
import type { Printer } from "./io.ts";

export const TRACE_VALUE_LIMIT = 300;

/**
 * Keys whose values are credentials. Narrower than the log redaction (which also hides user ids):
 * the trace runs on the author's machine to debug exactly those ids, never to show credentials.
 */
const CREDENTIAL_KEY = /token|secret|password|passwd|authorization|api[-_]?key|cookie|signature|credential|private[-_]?key/i;

/** Context members in the order an author looks for them; `request` (long, rarely the point) last. */
const CONTEXT_ORDER = ["deviceId", "endpointId", "command", "fields", "value", "attributes", "device", "response", "status", "page", "responses", "event", "body", "settings", "token", "secret", "headers", "request"];

function mask(value: unknown, secrets: SecretRegistry, depth = 0): unknown {
  if (depth > 12) return "[depth]";
  if (typeof value === "string") return secrets.scrub(value);
  if (Array.isArray(value)) return value.map((v) => mask(v, secrets, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = CREDENTIAL_KEY.test(k) && v !== undefined && v !== null && v !== "" ? REDACTED : mask(v, secrets, depth + 1);
    return out;
  }
  return value;
}

/** The evaluation context (see runtime/context.ts) reordered so the useful members show before the cut. */
function reorderContext(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value) || !("settings" in value) || !("responses" in value)) return value;
  const v = value as Record<string, unknown>;
  const keys = [...CONTEXT_ORDER.filter((k) => k in v), ...Object.keys(v).filter((k) => !CONTEXT_ORDER.includes(k))];
  return Object.fromEntries(keys.filter((k) => v[k] !== undefined).map((k) => [k, v[k]]));
}

/** A value as one line of JSON, credentials masked, cut at `limit` characters. */
export function preview(value: unknown, secrets: SecretRegistry, limit = TRACE_VALUE_LIMIT): string {
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(mask(reorderContext(value), secrets));
  } catch {
    text = String(value);
  }
  text = secrets.scrub(text ?? "undefined");
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length} chars)` : text;
}

function previewText(text: string, secrets: SecretRegistry, limit = TRACE_VALUE_LIMIT): string {
  if (text === "") return "(empty)";
  try {
    return preview(JSON.parse(text), secrets, limit);
  } catch {
    const clean = secrets.scrub(text).replace(/\s+/g, " ");
    return clean.length > limit ? `${clean.slice(0, limit)}… (${clean.length} chars)` : clean;
  }
}

/** "mappings/x/connector.yaml:12:9" (relative to the process) as the user's cwd shows it. */
export function displayAt(at: string, cwd: string): string {
  const m = /^(.*):(\d+):(\d+)$/.exec(at);
  if (!m) return at;
  return `${displayPath(resolve(process.cwd(), m[1]), cwd)}:${m[2]}:${m[3]}`;
}

export function expressionTracer(out: Printer, secrets: SecretRegistry, cwd = process.cwd()): ExpressionTracer {
  const { c } = out;
  return ({ at, src, input, output, error }) => {
    out.line(`${c.cyan("ƒ")} ${c.dim(displayAt(at, cwd))}  ${c.bold(oneLine(src))}`);
    out.line(`    ${c.dim("in: ")} ${preview(input, secrets)}`);
    if (error !== undefined) out.line(`    ${c.red("err:")} ${secrets.scrub(error)}`);
    else out.line(`    ${c.dim("out:")} ${preview(output, secrets)}`);
  };
}

/**
 * A fetch for the VendorClient that prints what goes out and what comes back. Only the method,
 * path, query and body are shown: headers carry the credentials.
 */
export function tracingFetch(out: Printer, secrets: SecretRegistry, base: typeof fetch = globalThis.fetch): typeof fetch {
  const { c } = out;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const target = secrets.scrub(decodeURI(url.pathname) + url.search);
    const body = request.body ? await request.clone().text() : "";
    out.line(`${c.magenta("→")} ${c.bold(`${request.method} ${target}`)}${body ? `  ${previewText(body, secrets)}` : ""}`);
    const started = performance.now();
    try {
      const response = await base(request);
      const ms = Math.round(performance.now() - started);
      const untraced = typeof init?.headers === "object" && init.headers !== null && untracedRequests.has(init.headers);
      const text = untraced ? '"[not shown: carries secret account values]"' : await response.clone().text();
      const status = response.status >= 400 ? c.red(String(response.status)) : c.green(String(response.status));
      out.line(`${c.magenta("←")} ${status} ${request.method} ${target} ${c.dim(`${ms} ms`)}  ${previewText(text, secrets)}`);
      return response;
    } catch (err) {
      out.line(`${c.magenta("←")} ${c.red("no answer")} ${request.method} ${target}: ${secrets.scrub((err as Error).message)}`);
      throw err;
    }
  }) as typeof fetch;
}

function oneLine(src: string): string {
  return src.replace(/\s+/g, " ").trim();
}
