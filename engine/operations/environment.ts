/**
 * Everything one operation needs, assembled per invocation by the handler.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import type { Deadline } from "../runtime/deadline.ts";
import type { Evaluator } from "../runtime/expressions.ts";
import type { CallRunner } from "../runtime/calls.ts";
import type { AuthMaterial } from "../runtime/credentials.ts";
import type { EvalContext } from "../runtime/context.ts";
import type { VendorClient } from "../vendor/client.ts";
import type { EventPublisher } from "./publisher.ts";
import type { SecretRegistry } from "../log/redact.ts";

export interface OperationEnv {
  bundle: CompiledBundle;
  request: ConnectorRequest;
  auth: AuthMaterial;
  evaluator: Evaluator;
  calls: CallRunner;
  vendor: VendorClient;
  publisher: EventPublisher;
  store: StateStore;
  logger: Logger;
  /** Budget of the synchronous part (the ACK). */
  deadline: Deadline;
  /** Values masked in every log line and trace of this container (token, secret account values). */
  secrets?: SecretRegistry;
  /** Key that encrypts account values in the store (engine/account/sealed.ts). */
  accountKey?: Buffer;
  /** Once known (bundles with `account`): the user id and the account values. */
  userId?: string;
  account?: Record<string, unknown>;
}

export function baseContext(env: OperationEnv): EvalContext {
  const ctx: EvalContext = { request: env.request.payload, settings: env.bundle.settings, responses: {} };
  if (env.auth.kind === "oauth") ctx.token = env.auth.token;
  if (env.auth.kind === "general") ctx.secret = env.auth.secret;
  if (env.userId !== undefined) ctx.userId = env.userId;
  if (env.account !== undefined) ctx.account = env.account;
  return ctx;
}
