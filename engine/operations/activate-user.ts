import { ack, type ConnectorResponse } from "../mi/protocol.ts";
import type { OperationEnv } from "./environment.ts";
import { keys } from "./keys.ts";
import { resolveUserId } from "./user-identity.ts";
import { activateAccount } from "../account/account.ts";

/** AWS.ActivateUser: the user id, derived fresh (never from cache) because this is account linking. */
export async function activateUser(env: OperationEnv): Promise<ConnectorResponse> {
  const userId = await resolveUserId(env, { fresh: true });
  // Linking: the account bootstrap runs now, once, and its values are kept for later operations.
  await activateAccount(env, userId);
  // Linking again after an unlink re-activates the user: their events flow again.
  await env.store.delete(keys.deactivated(userId));
  return ack(200, `Successfully activated user with connector-id ${env.request.payload.connectorId}`, userId);
}
