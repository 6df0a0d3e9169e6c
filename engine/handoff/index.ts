export {
  type DeferredJob,
  type DispatchOptions,
  type JobDispatcher,
  DEFAULT_MAX_ATTEMPTS,
  InvalidDeferredJobError,
  assertDeferredJob,
  createDeferredJob,
  defaultBackoffMs,
  deferredJobProblem,
  isDeferredJob,
  nextAttempt,
} from "./job.ts";
export { InProcessDispatcher, RetryJobLater, type InProcessDispatcherOptions } from "./in-process-dispatcher.ts";
export { JobSigner, JOB_KEY_ENV } from "./job-auth.ts";
export { JobDispatchError, JOB_QUEUE_URL_ENV, SqsJobQueue, sqsJobQueueFromEnv, type SqsJobQueueOptions } from "./sqs-dispatcher.ts";
