/**
 * Executes declared vendor calls: evaluates the call's expressions against the context, hands the
 * resulting plain request to the VendorClient (retries, deadline, auth injection) and applies the
 * mapping's own success test.
 */
import type { CompiledBundle, CompiledCall, CompiledErrorRule, ValueSpec } from "../mapping/compiled.ts";
import type { Deadline } from "./deadline.ts";
import { VendorError, type VendorCallSpec, type VendorClassification, type VendorResponse } from "../vendor/types.ts";
import type { VendorClient } from "../vendor/client.ts";
import { bindings, type EvalContext } from "./context.ts";
import type { Evaluator } from "./expressions.ts";
import { vendorAuth, type AuthMaterial } from "./credentials.ts";
import { RequestSigner, type SigningClock } from "./signing.ts";
import { checkAllowedHost } from "../vendor/allowed-hosts.ts";
import { tryUrl } from "../vendor/url.ts";

type Scalar = string | number | boolean;

export interface CallRunnerOptions {
  /** Clock and nonce source of request signing (tests pin them to check published vectors). */
  signingClock?: SigningClock;
}

/**
 * Called when a call fails with one of `account.refreshOn`: runs the account bootstrap again and
 * returns the fresh values (the call is then retried once).
 */
export type AccountRefresh = (ctx: EvalContext) => Promise<Record<string, unknown>>;

export class CallRunner {
  private readonly signer?: RequestSigner;
  /** Set by the account module when the bundle declares `account`. */
  refreshAccount?: AccountRefresh;
  private refreshed = false;

  constructor(
    private readonly bundle: CompiledBundle,
    private readonly vendor: VendorClient,
    private readonly evaluator: Evaluator,
    private readonly auth: AuthMaterial,
    opts: CallRunnerOptions = {},
  ) {
    if (bundle.api.signing) this.signer = new RequestSigner(bundle.api.signing, evaluator, auth, opts.signingClock);
  }

  /**
   * The call's base URL: static, or from `baseUrlFrom` (per-user host). A computed URL must be
   * https and its host must match `api.allowedHosts`; when `allowedHosts` is declared every host is
   * checked, static ones included, before anything is sent.
   */
  private async baseUrl(call: CompiledCall, ctx: EvalContext): Promise<string> {
    const from = call.baseUrlFrom ?? (call.baseUrl === undefined ? this.bundle.api.baseUrlFrom : undefined);
    let url = call.baseUrl ?? this.bundle.api.baseUrl;
    const allowed = this.bundle.api.allowedHosts;
    if (from) {
      const v = await this.evaluator.evaluate(from, ctx, bindings(ctx));
      if (v !== undefined && v !== null && v !== "") {
        const parsed = typeof v === "string" ? tryUrl(v) : undefined;
        if (!parsed || parsed.protocol !== "https:") {
          throw new VendorError(`${from.at}: base URL of call '${call.name}' is not an absolute https URL`, { kind: "invalid-request" });
        }
        if (!allowed) throw new VendorError(`${from.at}: a base URL from an expression needs api.allowedHosts`, { kind: "invalid-request" });
        url = v as string;
      }
    }
    if (allowed) checkAllowedHost(new URL(url), allowed, `call '${call.name}'`);
    return url;
  }

  /**
   * `storable`: for requests kept in the state store (command plans): without the headers computed
   * from account values and without the signer; `forSending` adds them back at send time.
   */
  async buildSpec(call: CompiledCall, ctx: EvalContext, extraQuery?: Record<string, ValueSpec>, opts: { storable?: boolean } = {}): Promise<VendorCallSpec> {
    const pathParams: Record<string, Scalar> = {};
    for (const [k, e] of Object.entries(call.pathParams)) {
      const v = await this.evaluator.evaluate(e, ctx, bindings(ctx));
      if (v === undefined || v === null || typeof v === "object") {
        throw new VendorError(`${e.at}: path parameter '${k}' evaluated to ${v === null ? "null" : typeof v}, not a string or number`, { kind: "invalid-request" });
      }
      pathParams[k] = v as Scalar;
    }
    const query = await this.values({ ...call.query, ...(extraQuery ?? {}) }, ctx);
    const headers: Record<string, string> = { ...this.bundle.api.headers };
    const dynamic = opts.storable ? {} : await this.dynamicHeaders(ctx);
    for (const [k, v] of Object.entries({ ...dynamic, ...(await this.values(call.headers, ctx)) })) headers[k] = Array.isArray(v) ? v.join(",") : String(v);
    const allowed = this.bundle.api.allowedHosts;
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() !== "host") continue;
      const host = tryUrl(`https://${v}`);
      if (!host || host.host !== v.toLowerCase() || !allowed) {
        throw new VendorError(`call '${call.name}': a Host header needs api.allowedHosts and a plain host name`, { kind: "invalid-request" });
      }
      checkAllowedHost(host, allowed, `Host header of call '${call.name}'`);
    }
    const spec: VendorCallSpec = {
      method: call.method,
      baseUrl: await this.baseUrl(call, ctx),
      path: call.path,
      pathParams,
      query,
      headers,
      auth: vendorAuth(this.bundle, call, this.auth),
      timeoutMs: call.timeoutMs ?? this.bundle.api.timeoutMs,
      acceptStatus: call.acceptStatus,
      label: call.name,
    };
    if (!opts.storable) this.attachSigner(spec, call, ctx);
    if (call.body) spec.json = await this.evaluator.evaluate(call.body, ctx, bindings(ctx));
    if (call.form) {
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(await this.values(call.form, ctx))) form[k] = String(v);
      spec.form = form;
    }
    return spec;
  }

  /** What a spec carries as functions (never stored): the request signer and the error rules. */
  private attachSigner(spec: VendorCallSpec, call: CompiledCall, ctx: EvalContext): void {
    // The quota is the call's as compiled now (not a stored copy): a redeployed bundle's applies.
    if (call.quota) spec.quota = call.quota;
    else delete spec.quota;
    const signer = this.signer;
    if (signer && call.sign !== false) spec.sign = (req) => signer.headers(req, ctx);
    const rules = [...(call.errors ?? []), ...(this.bundle.api.errors ?? [])];
    if (rules.length) spec.classify = (answer) => this.classify(rules, ctx, answer);
  }

  private async dynamicHeaders(ctx: EvalContext): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(await this.values(this.bundle.api.dynamicHeaders ?? {}, ctx))) out[k] = Array.isArray(v) ? v.join(",") : String(v);
    return out;
  }

  /** A stored request (buildSpec `storable`) made ready to send: credentials, computed headers, signer. */
  async forSending(call: CompiledCall, ctx: EvalContext, stored: Omit<VendorCallSpec, "auth">): Promise<VendorCallSpec> {
    const spec: VendorCallSpec = { ...stored, headers: { ...(await this.dynamicHeaders(ctx)), ...stored.headers }, auth: vendorAuth(this.bundle, call, this.auth) };
    this.attachSigner(spec, call, ctx);
    return spec;
  }

  /** Sends a stored request; a stale status refreshes the account values and retries once. */
  async send(call: CompiledCall, ctx: EvalContext, stored: Omit<VendorCallSpec, "auth">, deadline: Deadline): Promise<VendorResponse> {
    try {
      return await this.vendor.call(await this.forSending(call, ctx, stored), deadline);
    } catch (err) {
      if (!this.isStale(err)) throw err;
      this.refreshed = true;
      ctx.account = await this.refreshAccount!(ctx);
      return this.vendor.call(await this.forSending(call, ctx, stored), deadline);
    }
  }

  /** Runs one call; on success its body is kept in ctx.responses[call.name]. */
  async run(call: CompiledCall, ctx: EvalContext, deadline: Deadline, opts: RunOptions = {}): Promise<VendorResponse> {
    let res: VendorResponse;
    try {
      res = await this.vendor.call({ ...(await this.buildSpec(call, ctx)), ...(opts.untraced ? { untraced: true } : {}) }, deadline);
    } catch (err) {
      if (opts.noRefresh || !this.isStale(err)) throw err;
      // The stored account values are stale (a rotated app key, a moved host): bootstrap again, once
      // per invocation, and retry this call with the fresh values.
      this.refreshed = true;
      ctx.account = await this.refreshAccount!(ctx);
      res = await this.vendor.call(await this.buildSpec(call, ctx), deadline);
    }
    await this.checkSuccess(call, ctx, res);
    ctx.responses[call.name] = res.body;
    (ctx.responseHeaders ??= {})[call.name] = res.headers;
    return res;
  }

  async runAll(calls: CompiledCall[], ctx: EvalContext, deadline: Deadline, opts: RunOptions = {}): Promise<VendorResponse | undefined> {
    let last: VendorResponse | undefined;
    for (const c of calls) last = await this.run(c, ctx, deadline, opts);
    return last;
  }

  private isStale(err: unknown): boolean {
    const on = this.bundle.account?.refreshOn;
    return (
      !this.refreshed &&
      this.refreshAccount !== undefined &&
      !!on?.length &&
      err instanceof VendorError &&
      err.kind === "http" &&
      err.status !== undefined &&
      on.includes(err.status)
    );
  }

  /** The mapping's `success` expression turns a 2xx with per-device failures into an error. */
  async checkSuccess(call: CompiledCall, ctx: EvalContext, res: VendorResponse): Promise<void> {
    if (!call.success) return;
    const rctx: EvalContext = { ...ctx, response: res.body, status: res.status, headers: res.headers };
    const ok = await this.evaluator.evaluate(call.success, res.body, bindings(rctx));
    if (ok !== true) {
      throw new VendorError(`vendor answered ${res.status} but the call's success test (${call.success.at}) is not met`, {
        kind: "rejected",
        status: res.status,
        body: res.body,
        attempts: res.attempts,
      });
    }
  }

  /** The first error rule that holds for an answer, with the vendor's code and message. */
  async classify(
    rules: CompiledErrorRule[],
    ctx: EvalContext,
    answer: { status: number; headers: Record<string, string>; body: unknown },
  ): Promise<VendorClassification | undefined> {
    const rctx: EvalContext = { ...ctx, response: answer.body, status: answer.status, headers: answer.headers };
    const b = bindings(rctx);
    for (const rule of rules) {
      if ((await this.evaluator.evaluate(rule.when, answer.body, b)) !== true) continue;
      const out: VendorClassification = { status: rule.status, rule: rule.when.at };
      const code = rule.code ? await this.evaluator.evaluate(rule.code, answer.body, b) : undefined;
      const message = rule.message ? await this.evaluator.evaluate(rule.message, answer.body, b) : undefined;
      if (code !== undefined && code !== null && typeof code !== "object") out.code = String(code);
      if (typeof message === "string" && message) out.message = message;
      return out;
    }
    return undefined;
  }

  private async values(map: Record<string, ValueSpec>, ctx: EvalContext): Promise<Record<string, Scalar | Scalar[]>> {
    const out: Record<string, Scalar | Scalar[]> = {};
    for (const [k, spec] of Object.entries(map)) {
      const v = "literal" in spec ? spec.literal : await this.evaluator.evaluate(spec.expr, ctx, bindings(ctx));
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) out[k] = v.filter((x) => x !== null && x !== undefined).map((x) => (typeof x === "object" ? JSON.stringify(x) : x)) as Scalar[];
      else out[k] = typeof v === "object" ? JSON.stringify(v) : (v as Scalar);
    }
    return out;
  }
}

export interface RunOptions {
  /** Bootstrap calls themselves: a stale status is an error, not a reason to bootstrap again. */
  noRefresh?: boolean;
  /** The response carries secret account values: tracing prints it masked. */
  untraced?: boolean;
}
