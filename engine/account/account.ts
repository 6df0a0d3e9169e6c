/**
 * Per-user account values (`account` in the mapping): obtained by the bootstrap calls once per
 * user, after the user id is known, and kept encrypted in the state store under the hashed user
 * id. Later operations (in any container) read them from the store instead of calling the vendor
 * again; a call failing with an `account.refreshOn` status runs the bootstrap again, once.
 * Secret values are registered with the log redaction as soon as they are known.
 */
import type { CompiledAccount } from "../mapping/compiled.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { baseContext } from "../operations/environment.ts";
import { keys, TTL } from "../operations/keys.ts";
import { resolveUserId } from "../operations/user-identity.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import { Evaluator } from "../runtime/expressions.ts";
import { AccountKeyError, open, seal } from "./sealed.ts";

/** Evaluates secret values: the trace must not print them before they are registered. */
const untracedEvaluator = new Evaluator();

export type AccountValues = Record<string, unknown>;

export class AccountValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountValueError";
  }
}

/**
 * For operations after linking: the user id (cached per token) and the account values (stored,
 * else bootstrapped now), put into `env` so every context built from it carries them.
 */
export async function prepareAccount(env: OperationEnv): Promise<void> {
  const spec = env.bundle.account;
  if (!spec) return;
  const userId = await resolveUserId(env);
  env.userId = userId;
  env.account = (await storedAccount(env, userId)) ?? (await bootstrapAccount(env, userId));
  enableRefresh(env, userId);
}

/** AWS.ActivateUser: always a fresh bootstrap (this is account linking). */
export async function activateAccount(env: OperationEnv, userId: string): Promise<void> {
  if (!env.bundle.account) return;
  env.userId = userId;
  env.account = await bootstrapAccount(env, userId);
  enableRefresh(env, userId);
}

/** AWS.DeactivateUser: the values are read for the revoke calls, then deleted from the store. */
export async function retireAccount(env: OperationEnv, userId: string): Promise<AccountValues | undefined> {
  if (!env.bundle.account) return undefined;
  const values = (await storedAccount(env, userId)) ?? {};
  await env.store.delete(keys.account(userId));
  return values;
}

/** Runs the bootstrap calls, evaluates the values and stores them (encrypted). */
export async function bootstrapAccount(env: OperationEnv, userId: string): Promise<AccountValues> {
  const spec = env.bundle.account as CompiledAccount;
  const ctx: EvalContext = { ...baseContext(env), userId };
  delete ctx.account;
  const untraced = spec.values.some((v) => v.secret);
  for (const call of spec.bootstrap) {
    await env.calls.run(call, ctx, env.deadline, { noRefresh: true, untraced });
    // Secret values are registered for redaction as soon as the response they come from is in,
    // before the next call's expressions (and their trace lines) see it.
    if (untraced) await registerEarly(env, spec, ctx);
  }
  const values: AccountValues = {};
  // Secret values first, untraced, and registered for redaction before any other expression (or
  // trace line) sees the bootstrap responses they came from.
  const ordered = [...spec.values.filter((v) => v.secret), ...spec.values.filter((v) => !v.secret)];
  for (const v of ordered) {
    const out = await (v.secret ? untracedEvaluator : env.evaluator).evaluate(v.expr, ctx, bindings(ctx));
    if (out === undefined) continue;
    if (v.secret) {
      if (typeof out !== "string") throw new AccountValueError(`${v.expr.at}: secret account value '${v.name}' must be a string`);
      env.secrets?.add(out);
    }
    values[v.name] = out;
  }
  await saveAccount(env, userId, values);
  env.logger.info("account bootstrapped", { values: Object.keys(values).length });
  return values;
}

async function registerEarly(env: OperationEnv, spec: CompiledAccount, ctx: EvalContext): Promise<void> {
  for (const v of spec.values) {
    if (!v.secret) continue;
    try {
      env.secrets?.add(await untracedEvaluator.evaluate(v.expr, ctx, bindings(ctx)));
    } catch {
      // Not computable yet (it reads a later response): the final pass reports real errors.
    }
  }
}

async function storedAccount(env: OperationEnv, userId: string): Promise<AccountValues | undefined> {
  const record = await env.store.get(keys.account(userId));
  if (record === undefined) return undefined;
  const key = requireKey(env);
  const values = open(key, keys.account(userId), record);
  if (!values || typeof values !== "object") {
    // Written with another key or tampered with: bootstrapping again is the only safe answer.
    env.logger.warn("stored account values could not be decrypted; bootstrapping again");
    return undefined;
  }
  registerSecrets(env, values as AccountValues);
  return values as AccountValues;
}

async function saveAccount(env: OperationEnv, userId: string, values: AccountValues): Promise<void> {
  const key = requireKey(env);
  await env.store.put(keys.account(userId), seal(key, keys.account(userId), values), TTL.account);
}

function registerSecrets(env: OperationEnv, values: AccountValues): void {
  for (const v of env.bundle.account?.values ?? []) if (v.secret) env.secrets?.add(values[v.name]);
}

function requireKey(env: OperationEnv): Buffer {
  if (!env.accountKey) {
    throw new AccountKeyError("this bundle keeps account values but no C2C_ACCOUNT_KEY is configured for the durable state store");
  }
  return env.accountKey;
}

function enableRefresh(env: OperationEnv, userId: string): void {
  env.calls.refreshAccount = async () => {
    env.logger.info("vendor says the account values are stale; bootstrapping again");
    env.account = await bootstrapAccount(env, userId);
    return env.account;
  };
}
