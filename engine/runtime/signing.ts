/**
 * Signed vendor requests (`api.signing`): an HMAC over a canonical string that the bundle declares
 * as an expression, sent in headers the bundle declares. The engine supplies the parts every
 * scheme is built from (method, path, sorted query, body hash, timestamp, nonce, client id) and
 * computes the MAC; what goes into the string, and in which order, is the vendor's and stays in
 * YAML. Signing runs per attempt, on the request exactly as it is sent, so a retry gets a fresh
 * timestamp and nonce.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import type { CompiledSigning, ValueSpec } from "../mapping/compiled.ts";
import { bindings, type EvalContext } from "./context.ts";
import type { Evaluator } from "./expressions.ts";
import { CredentialError, type AuthMaterial } from "./credentials.ts";

/** The request as it leaves: method, absolute URL, body text ('' when none). */
export interface OutgoingRequest {
  method: string;
  url: string;
  body: string;
}

export interface SigningClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A fresh nonce per request. */
  nonce(): string;
}

export const systemSigningClock: SigningClock = {
  now: () => Date.now(),
  nonce: () => randomUUID().replace(/-/g, ""),
};

/** What `stringToSign` and the signing headers see, beside the call context. */
export interface SigningContext extends EvalContext {
  method: string;
  path: string;
  query: string;
  sortedQuery: string;
  url: string;
  body: string;
  bodyHash: string;
  timestamp: string;
  nonce: string;
  clientId?: string;
  signature?: string;
}

export class RequestSigner {
  constructor(
    private readonly spec: CompiledSigning,
    private readonly evaluator: Evaluator,
    private readonly auth: AuthMaterial,
    private readonly clock: SigningClock = systemSigningClock,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  /** The headers to add to `req`. */
  async headers(req: OutgoingRequest, ctx: EvalContext): Promise<Record<string, string>> {
    const key = this.key(ctx);
    const sctx = signingContext(req, ctx, this.clock, this.env.C2C_OAUTH_CLIENT_ID);
    const text = await this.evaluator.evaluate(this.spec.stringToSign, sctx, bindings(sctx));
    if (typeof text !== "string") throw new CredentialError(`${this.spec.stringToSign.at}: stringToSign gave ${text === undefined ? "nothing" : typeof text}, not a string`);
    sctx.signature = mac(this.spec, key, text);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.spec.headers)) {
      const v = await valueOf(value, sctx, this.evaluator);
      if (v !== undefined && v !== null) out[name] = String(v);
    }
    return out;
  }

  private key(ctx: EvalContext): string {
    const { env, secretField, account } = this.spec.key;
    let v: unknown;
    let where: string;
    if (env !== undefined) {
      v = this.env[env];
      where = `environment variable ${env}`;
    } else if (secretField !== undefined) {
      v = this.auth.kind === "general" ? this.auth.secret[secretField] : undefined;
      where = `General Authorization secret field '${secretField}'`;
    } else {
      v = account !== undefined ? ctx.account?.[account] : undefined;
      where = `account value '${account}'`;
    }
    if (typeof v !== "string" || v === "") throw new CredentialError(`the request signing key (${where}) is not set`);
    return v;
  }
}

export function mac(spec: Pick<CompiledSigning, "encoding">, key: string, text: string): string {
  const digest = createHmac("sha256", key).update(text, "utf8").digest();
  if (spec.encoding === "base64") return digest.toString("base64");
  const hex = digest.toString("hex");
  return spec.encoding === "HEX" ? hex.toUpperCase() : hex;
}

export function signingContext(req: OutgoingRequest, ctx: EvalContext, clock: SigningClock, clientId: string | undefined): SigningContext {
  const url = new URL(req.url);
  const query = url.search.replace(/^\?/, "");
  const sortedQuery = query
    .split("&")
    .filter((p) => p !== "")
    .sort((a, b) => {
      const ka = a.split("=")[0];
      const kb = b.split("=")[0];
      return ka < kb ? -1 : ka > kb ? 1 : a < b ? -1 : a > b ? 1 : 0;
    })
    .join("&");
  const path = url.pathname;
  return {
    ...ctx,
    method: req.method.toUpperCase(),
    path,
    query,
    sortedQuery,
    url: sortedQuery ? `${path}?${sortedQuery}` : path,
    body: req.body,
    bodyHash: createHash("sha256").update(req.body, "utf8").digest("hex"),
    timestamp: String(clock.now()),
    nonce: clock.nonce(),
    ...(clientId ? { clientId } : {}),
  };
}

async function valueOf(spec: ValueSpec, ctx: SigningContext, evaluator: Evaluator): Promise<unknown> {
  return "literal" in spec ? spec.literal : evaluator.evaluate(spec.expr, ctx, bindings(ctx));
}
