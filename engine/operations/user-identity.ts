/**
 * The vendor's id of the linked user, derived as `operations.activateUser` declares. Events need
 * it (UserId) in operations whose request does not carry it, so it is cached per token (or per
 * General Authorization secret version) in the state store, hashed.
 */
import { bindings } from "../runtime/context.ts";
import { baseContext, type OperationEnv } from "./environment.ts";
import { keys, TTL } from "./keys.ts";
import type { VendorResponse } from "../vendor/types.ts";
import { missingInAnswer, requireReadableBody } from "../vendor/unusable.ts";

const USER_ID = /^[a-zA-Z0-9_.,@-]{1,64}$/;

export class UserIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserIdError";
  }
}

function cacheKey(env: OperationEnv): string | undefined {
  if (env.auth.kind === "oauth") return keys.userOfToken(env.auth.token);
  if (env.request.header.auth.type === "GeneralAuthorization") {
    const { arn, versionId } = env.request.header.auth.secretsManager;
    return keys.userOfSecret(arn, versionId);
  }
  return undefined;
}

/** The user id cached for this request's credential, without asking the vendor; undefined when none is. */
export async function cachedUserId(env: OperationEnv): Promise<string | undefined> {
  const key = cacheKey(env);
  const cached = key ? await env.store.get<string>(key) : undefined;
  return typeof cached === "string" ? cached : undefined;
}

export async function resolveUserId(env: OperationEnv, opts: { fresh?: boolean } = {}): Promise<string> {
  const key = cacheKey(env);
  if (key && !opts.fresh) {
    const cached = await env.store.get<string>(key);
    if (typeof cached === "string") return cached;
  }
  const spec = env.bundle.operations.activateUser;
  const ctx = baseContext(env);
  let last: VendorResponse | undefined;
  for (const call of spec.requests) {
    last = await env.calls.run(call, ctx, env.deadline);
    // The user id is read from these answers: one that is not JSON is the vendor's failure (502).
    requireReadableBody(last, call.name);
  }
  const raw = await env.evaluator.evaluate(spec.userId, ctx, bindings(ctx));
  const userId = typeof raw === "number" ? String(raw) : raw;
  // Nothing where the mapping reads the id from the vendor's answer: the answer lacks it (502);
  // a value of the wrong form is the mapping's to fix (500).
  if ((raw === undefined || raw === null) && last) throw missingInAnswer("user id", spec.userId.at, last.status);
  if (typeof userId !== "string" || !USER_ID.test(userId)) {
    throw new UserIdError(
      `${spec.userId.at}: the user id expression gave ${userId === undefined ? "nothing" : "a value"} that is not 1-64 characters of [a-zA-Z0-9_.,@-] (use $sha256() over a stable value)`,
    );
  }
  if (key) await env.store.put(key, userId, TTL.userOfToken);
  return userId;
}
