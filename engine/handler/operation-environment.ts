/**
 * The environment one operation runs in (engine/operations/environment.ts): the request's
 * credentials (registered as secrets before anything logs), this invocation's view of the vendor
 * client (its request limit and the bundle's quotas), the call runner, and a publisher bounded by
 * the invocation's deadline.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import type { RedactingLogger } from "../log/json-logger.ts";
import type { SecretReader } from "../auth/secrets.ts";
import type { Deadline } from "../runtime/deadline.ts";
import type { Evaluator } from "../runtime/expressions.ts";
import { CallRunner } from "../runtime/calls.ts";
import type { SigningClock } from "../runtime/signing.ts";
import type { AuthMaterial } from "../runtime/credentials.ts";
import { prepareAccount } from "../account/account.ts";
import type { VendorClient } from "../vendor/client.ts";
import { RequestLimit } from "../vendor/request-limit.ts";
import { limitsOf } from "../operations/limits.ts";
import type { EventPublisher } from "../operations/publisher.ts";
import type { OperationEnv } from "../operations/environment.ts";
import type { QuotaGate } from "../quota/quota-gate.ts";

export interface EnvironmentParts {
  bundle: CompiledBundle;
  store: StateStore;
  /** The container's logger: its secret registry masks every credential the requests bring. */
  logger: RedactingLogger;
  secrets: SecretReader;
  vendor: VendorClient;
  quotaGate: QuotaGate;
  evaluator: Evaluator;
  publisher: EventPublisher;
  accountKey?: Buffer;
  signingClock?: SigningClock;
}

export class OperationEnvironments {
  constructor(private readonly parts: EnvironmentParts) {}

  /** Builds the per-invocation environment: credentials, secrets to mask, call runner. */
  async build(request: ConnectorRequest, deadline: Deadline, logger: Logger, opts: { account?: boolean } = {}): Promise<OperationEnv> {
    const p = this.parts;
    const auth = await this.authMaterial(request);
    // One view of the vendor client per invocation: it counts this invocation's requests against the limit.
    const vendor = p.vendor.withRequestLimit(new RequestLimit(limitsOf(p.bundle).vendorRequestsPerInvocation)).withQuotas(p.quotaGate, p.bundle.api.quota);
    const env: OperationEnv = {
      bundle: p.bundle,
      request,
      auth,
      evaluator: p.evaluator,
      calls: new CallRunner(p.bundle, vendor, p.evaluator, auth, { signingClock: p.signingClock }),
      vendor,
      // Every request to MI on this path is bounded by what is left of the budget: the ACK never waits on MI.
      publisher: p.publisher.within(deadline),
      store: p.store,
      logger,
      deadline,
      secrets: p.logger.secretRegistry,
      accountKey: p.accountKey,
    };
    // Operations after linking read the stored account values (ActivateUser bootstraps them,
    // DeactivateUser retires them itself).
    const op = request.payload.operationName;
    if (opts.account !== false && (op === "AWS.DiscoverDevices" || op === "AWS.SendCommand")) await prepareAccount(env);
    return env;
  }

  private async authMaterial(request: ConnectorRequest): Promise<AuthMaterial> {
    const secrets = this.parts.logger.secretRegistry;
    const auth = request.header.auth;
    if (auth.type === "OAuth2.0") {
      secrets.add(auth.token);
      return { kind: "oauth", token: auth.token };
    }
    const secret = await this.parts.secrets.read(auth.secretsManager.arn, auth.secretsManager.versionId);
    for (const v of Object.values(secret)) secrets.add(v);
    return { kind: "general", secret };
  }
}
