/**
 * Executes declared vendor calls: evaluates the call's expressions against the context, hands the
 * resulting plain request to the VendorClient (retries, deadline, auth injection) and applies the
 * mapping's own success test.
 */
import type { CompiledBundle, CompiledCall, ValueSpec } from "../mapping/compiled.ts";
import type { Deadline } from "./deadline.ts";
import { VendorError, type VendorCallSpec, type VendorResponse } from "../vendor/types.ts";
import type { VendorClient } from "../vendor/client.ts";
import { bindings, type EvalContext } from "./context.ts";
import type { Evaluator } from "./expressions.ts";
import { vendorAuth, type AuthMaterial } from "./credentials.ts";

type Scalar = string | number | boolean;

export class CallRunner {
  constructor(
    private readonly bundle: CompiledBundle,
    private readonly vendor: VendorClient,
    private readonly evaluator: Evaluator,
    private readonly auth: AuthMaterial,
  ) {}

  async buildSpec(call: CompiledCall, ctx: EvalContext, extraQuery?: Record<string, ValueSpec>): Promise<VendorCallSpec> {
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
    for (const [k, v] of Object.entries(await this.values(call.headers, ctx))) headers[k] = Array.isArray(v) ? v.join(",") : String(v);
    const spec: VendorCallSpec = {
      method: call.method,
      baseUrl: call.baseUrl ?? this.bundle.api.baseUrl,
      path: call.path,
      pathParams,
      query,
      headers,
      auth: vendorAuth(this.bundle, call, this.auth),
      timeoutMs: call.timeoutMs ?? this.bundle.api.timeoutMs,
      acceptStatus: call.acceptStatus,
      label: call.name,
    };
    if (call.body) spec.json = await this.evaluator.evaluate(call.body, ctx, bindings(ctx));
    if (call.form) {
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(await this.values(call.form, ctx))) form[k] = String(v);
      spec.form = form;
    }
    return spec;
  }

  /** Runs one call; on success its body is kept in ctx.responses[call.name]. */
  async run(call: CompiledCall, ctx: EvalContext, deadline: Deadline): Promise<VendorResponse> {
    const spec = await this.buildSpec(call, ctx);
    const res = await this.vendor.call(spec, deadline);
    await this.checkSuccess(call, ctx, res);
    ctx.responses[call.name] = res.body;
    return res;
  }

  async runAll(calls: CompiledCall[], ctx: EvalContext, deadline: Deadline): Promise<VendorResponse | undefined> {
    let last: VendorResponse | undefined;
    for (const c of calls) last = await this.run(c, ctx, deadline);
    return last;
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
