/**
 * The vendor's id of the linked user, derived as `operations.activateUser` declares. Events need
 * it (UserId) in operations whose request does not carry it, so it is cached per token (or per
 * General Authorization secret version) in the state store, hashed.
 */
import { bindings } from "../runtime/context.ts";
import { baseContext, type OperationEnv } from "./environment.ts";
import { keys, TTL } from "./keys.ts";

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

export async function resolveUserId(env: OperationEnv, opts: { fresh?: boolean } = {}): Promise<string> {
  const key = cacheKey(env);
  if (key && !opts.fresh) {
    const cached = await env.store.get<string>(key);
    if (typeof cached === "string") return cached;
  }
  const spec = env.bundle.operations.activateUser;
  const ctx = baseContext(env);
  await env.calls.runAll(spec.requests, ctx, env.deadline);
  const raw = await env.evaluator.evaluate(spec.userId, ctx, bindings(ctx));
  const userId = typeof raw === "number" ? String(raw) : raw;
  if (typeof userId !== "string" || !USER_ID.test(userId)) {
    throw new UserIdError(
      `${spec.userId.at}: the user id expression gave ${userId === undefined ? "nothing" : "a value"} that is not 1-64 characters of [a-zA-Z0-9_.,@-] (use $sha256() over a stable value)`,
    );
  }
  if (key) await env.store.put(key, userId, TTL.userOfToken);
  return userId;
}
