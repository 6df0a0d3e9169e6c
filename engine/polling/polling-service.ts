/**
 * Polling for one bundle (mapping `polling`), in one place: who is polled (the roster), with which
 * credential (the last one MI sent, sealed), when (a round spread over the interval under the
 * vendor's rate) and each user's poll. The engine routes three things here: every answered MI
 * request, the schedule's tick and the poll jobs; the jobs go through the engine's job queue.
 */
import type { CompiledPolling } from "../mapping/compiled.ts";
import type { ConnectorRequest, ConnectorResponse } from "../mi/protocol.ts";
import type { Logger } from "../log/logger.ts";
import type { StateStore } from "../store/store.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { cachedUserId } from "../operations/user-identity.ts";
import { AccountKeyError } from "../account/sealed.ts";
import { PollCredentials } from "./credentials.ts";
import { PollRoster } from "./roster.ts";
import { pollUser, type PollResult } from "./poll-user.ts";
import { planRound, POLL_JOB } from "./schedule.ts";

/** What a poll job carries: only the user id (the credential stays sealed in the store). */
export interface PollJobWork {
  userId: string;
}

/** Puts a job on the engine's job queue (its work stored or signed as every job's). */
export type EnqueueJob = (operation: string, work: object, options: { maxAttempts?: number; delayMs?: number }) => Promise<unknown>;

export interface PollingServiceDeps {
  polling: CompiledPolling;
  store: StateStore;
  vendorId: string;
  /** Vendor requests one poll makes (discovery's list call and its per-device reads). */
  requestsPerPoll: number;
  /** The key credentials are sealed with (C2C_ACCOUNT_KEY); polling refuses to run without it. */
  accountKey?: Buffer;
  now: () => number;
  logger: Logger;
  /** The job queue; a tick without one is an error (nothing could be spread). */
  enqueue?: EnqueueJob;
}

export class PollingService {
  constructor(private readonly deps: PollingServiceDeps) {}

  /**
   * Every answered MI request renews the user's poll credential and keeps them on the roster;
   * DeactivateUser takes both away. A failure here costs polls, not the operation: it is logged
   * and the ACK stands.
   */
  async noteAnswered(env: OperationEnv, response: ConnectorResponse): Promise<void> {
    try {
      const op = env.request.payload.operationName;
      // Never a vendor call on the ACK path for this: a credential whose user is not known yet waits for one.
      const userId = (op === "AWS.ActivateUser" ? response.payload?.userId : undefined) ?? env.userId ?? (await cachedUserId(env));
      if (userId === undefined) return;
      const roster = this.roster();
      if (op === "AWS.DeactivateUser") {
        await Promise.all([this.credentials().forget(userId), roster.remove(userId)]);
        return;
      }
      await this.credentials().remember(userId, env.request.header.auth, env.request.payload.connectorId);
      await roster.add(userId);
    } catch (err) {
      env.logger.warn("poll credential not recorded: this user is not polled until the next request", { error: err });
    }
  }

  /**
   * The scheduled tick: one job per user on the job queue, spread over the interval and under the
   * vendor's rate. A job that fails is not retried: the next round polls the user again.
   */
  async startRound(): Promise<{ status: "ok"; users: number }> {
    const { polling, enqueue } = this.deps;
    const logger = this.deps.logger.child({ source: "polling" });
    if (!enqueue) throw new Error("polling needs the job queue");
    const users = await this.roster().list();
    const round = planRound(users.length, polling.intervalMinutes, this.deps.requestsPerPoll, polling.requestsPerMinute);
    if (round.overruns) logger.warn("the vendor rate limit does not let every user be polled within the interval", { users: users.length, requestsPerMinute: polling.requestsPerMinute });
    for (const [i, userId] of users.entries()) {
      await enqueue(POLL_JOB, { userId } satisfies PollJobWork, { maxAttempts: 1, delayMs: round.delaysMs[i] });
    }
    logger.info("poll round started", { users: users.length });
    return { status: "ok", users: users.length };
  }

  /** One poll job: the user's devices read with their last credential, changes sent as DEVICE_EVENTs. */
  poll(work: PollJobWork, environment: (request: ConnectorRequest) => Promise<OperationEnv>, logger: Logger): Promise<PollResult> {
    return pollUser(
      { polling: this.deps.polling, credentials: this.credentials(), roster: this.roster(), environment, logger, now: this.deps.now },
      work.userId,
    );
  }

  private credentials(): PollCredentials {
    if (!this.deps.accountKey) throw new AccountKeyError("polling keeps credentials encrypted: set C2C_ACCOUNT_KEY (at least 32 characters)");
    return new PollCredentials(this.deps.store, this.deps.accountKey, this.deps.polling.credentialTtlSeconds, this.deps.now);
  }

  private roster(): PollRoster {
    return new PollRoster(this.deps.store, this.deps.vendorId);
  }
}
