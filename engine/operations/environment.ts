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
}

export function baseContext(env: OperationEnv): EvalContext {
  const ctx: EvalContext = { request: env.request.payload, settings: env.bundle.settings, responses: {} };
  if (env.auth.kind === "oauth") ctx.token = env.auth.token;
  if (env.auth.kind === "general") ctx.secret = env.auth.secret;
  return ctx;
}
