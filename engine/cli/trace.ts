/**
 * `--trace` output: each vendor request and response, each JSONata evaluation with the YAML
 * position that declared it. Everything printed goes through redaction first: the access token
 * (and any other registered secret) never appears, nor do fields named like secrets.
 */
import type { ExpressionTracer } from "../runtime/expressions.ts";
import { redact, type SecretRegistry } from "../log/redact.ts";
import type { Printer } from "./io.ts";

export const TRACE_VALUE_LIMIT = 240;

/** A value as one line of JSON, secrets masked, cut at `limit` characters. */
export function preview(value: unknown, secrets: SecretRegistry, limit = TRACE_VALUE_LIMIT): string {
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(redact(value, secrets));
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

export function expressionTracer(out: Printer, secrets: SecretRegistry): ExpressionTracer {
  const { c } = out;
  return ({ at, src, input, output, error }) => {
    out.line(`${c.cyan("ƒ")} ${c.dim(at)}  ${c.bold(oneLine(src))}`);
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
      const text = await response.clone().text();
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
