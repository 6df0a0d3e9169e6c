import { ack, type ConnectorResponse } from "../mi/protocol.ts";
import { bindings } from "../runtime/context.ts";
import { baseContext, type OperationEnv } from "./environment.ts";
import { keys, TTL } from "./keys.ts";
import { resolveUserId } from "./user-identity.ts";
import { retireAccount } from "../account/account.ts";

/**
 * AWS.DeactivateUser: mark the user deactivated first (so no event for them leaves even if the
 * revoke fails half-way), then run the revoke call(s). The user id is resolved before the revoke,
 * while the token still works.
 */
export async function deactivateUser(env: OperationEnv): Promise<ConnectorResponse> {
  const spec = env.bundle.operations.deactivateUser;
  const ctx = baseContext(env);
  let userId: string | undefined;
  if (spec.userId) {
    const v = await env.evaluator.evaluate(spec.userId, ctx, bindings(ctx));
    userId = typeof v === "string" || typeof v === "number" ? String(v) : undefined;
  }
  userId ??= await resolveUserId(env);
  await env.store.put(keys.deactivated(userId), { at: Date.now() }, TTL.deactivated);
  // The account values go from the store before the revoke; the revoke calls may still read them.
  const account = await retireAccount(env, userId);
  if (account) Object.assign(ctx, { userId, account });
  await env.calls.runAll(spec.requests, ctx, env.deadline);
  return ack(200, `Successfully deactivated user for connector-id ${env.request.payload.connectorId}`);
}
