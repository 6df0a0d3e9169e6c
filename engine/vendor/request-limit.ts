/**
 * The hard limit on vendor requests of one invocation (mapping `api.limits.vendorRequestsPerInvocation`):
 * every HTTP attempt, retries and pages included, takes one; past the limit nothing more is sent.
 */
export class RequestLimitError extends Error {
  override readonly name = "RequestLimitError";
  constructor(readonly limit: number) {
    super(`more than ${limit} vendor requests in one invocation (api.limits.vendorRequestsPerInvocation)`);
  }
}

export class RequestLimit {
  private used = 0;
  constructor(readonly max: number) {}

  /** Counts one request; throws RequestLimitError (before anything is sent) past the limit. */
  take(): void {
    if (this.used >= this.max) throw new RequestLimitError(this.max);
    this.used++;
  }

  get count(): number {
    return this.used;
  }
}
