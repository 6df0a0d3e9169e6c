/**
 * Requests whose responses carry secrets (an account bootstrap that returns an application key).
 * The vendor client adds the header object of such a request here; tracing tools
 * (`c2c invoke --trace`, whose fetch receives that same object as `init.headers`) print the
 * response body masked. A WeakSet, so nothing is kept after the request is gone.
 */
export const untracedRequests = new WeakSet<object>();
