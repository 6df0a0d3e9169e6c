/**
 * Operation work that continues after the ACK, on the job queue: the tail of a discovery, a
 * command whose vendor was slow (its plan is in the store), and the read-back of a command the
 * vendor only accepted. Only with a dispatcher; without one, operations run to the end themselves.
 */
import type { ConnectorRequest } from "../mi/protocol.ts";
import type { DiscoveryProgress } from "../operations/discover-devices.ts";
import type { CommandPlan } from "../operations/send-command.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import { countMetric, Metric } from "../metrics/recorder.ts";
import { READ_BACK_JOB, type DeferredWork, type JobWork } from "./job-work.ts";

export class HandOffs {
  constructor(
    private readonly work: DeferredWork,
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** The rest of `request`'s work as a job, after `delayMs` when given (a quota's wait). */
  async handOff(request: ConnectorRequest, progress?: DiscoveryProgress, plan?: CommandPlan, delayMs?: number): Promise<void> {
    const operation = request.payload.operationName;
    // A command's plan is in the store; a store that is not shared (memory) also needs it in the job.
    const work: JobWork = { request, ...(progress ? { progress } : {}), ...(plan && !this.store.durable ? { plan } : {}) };
    const job = await this.work.enqueue(operation, work, { delayMs });
    countMetric(Metric.HandOffs, 1, { operation });
    this.logger.info("work handed off", { operation: job.operation, jobId: job.jobId, ...(delayMs !== undefined ? { delayMs } : {}) });
  }

  /** A command the vendor only accepted: its device is read back by a job after `delayMs` (SQS DelaySeconds). */
  async scheduleReadBack(request: ConnectorRequest, delayMs: number): Promise<void> {
    const job = await this.work.enqueue(READ_BACK_JOB, { request } satisfies JobWork, { delayMs });
    this.logger.info("command read-back scheduled", { jobId: job.jobId, delayMs });
  }
}
