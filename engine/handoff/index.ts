export {
  type DeferredJob,
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
export { InProcessDispatcher, type InProcessDispatcherOptions } from "./in-process-dispatcher.ts";
export {
  JobDispatchError,
  LambdaSelfInvokeDispatcher,
  type LambdaSelfInvokeDispatcherOptions,
} from "./lambda-dispatcher.ts";
