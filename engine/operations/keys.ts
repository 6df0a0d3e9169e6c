/**
 * State-store keys. User ids and tokens are hashed so the table never holds them in clear.
 */
import { sha256Hex } from "../util/sha256.ts";

const h = (s: string) => sha256Hex(s).slice(0, 40);

export const keys = {
  userOfToken: (token: string) => `user:token:${h(token)}`,
  userOfSecret: (arn: string, versionId: string) => `user:secret:${h(`${arn}\n${versionId}`)}`,
  deactivated: (userId: string) => `deactivated:${h(userId)}`,
  account: (userId: string) => `account:${h(userId)}`,
  trace: (connectorId: string, traceId: string) => `trace:${connectorId}:${traceId}`,
  discovery: (connectorId: string, discoveryId: string) => `discovery:${connectorId}:${discoveryId}`,
  job: (ref: string) => `job:${ref}`,
  /** Events of an outbox job that MI accepted (a count, in order). */
  jobProgress: (jobId: string) => `job-progress:${jobId}`,
  profileOf: (connectorId: string, deviceId: string) => `profile:${connectorId}:${h(deviceId)}`,
  webhookEvent: (eventId: string) => `webhook:event:${h(eventId)}`,
  /** An id-less webhook event, by the digest of its content. */
  webhookEventDigest: (connectorId: string, digest: string) => `webhook:digest:${connectorId}:${digest}`,
  acceptedSignature: (signature: string) => `webhook:sig:${h(signature)}`,
  knownDevice: (connectorId: string, deviceId: string) => `device:${connectorId}:${h(deviceId)}`,
  userAlias: (vendorUserId: string) => `user:alias:${h(vendorUserId)}`,
  /** The last credential MI sent for a user, sealed (engine/polling/credentials.ts). */
  pollCredential: (userId: string) => `poll:credential:${h(userId)}`,
  /** The users a poll round visits. */
  pollRoster: (connector: string) => `poll:roster:${connector}`,
  attributeOrder: (deviceId: string, endpointId: string, clusterId: string, attributeId: string) =>
    `order:${h(deviceId)}:${endpointId}:${clusterId}:${attributeId}`,
  lastValue: (deviceId: string, endpointId: string, clusterId: string, attributeId: string) =>
    `last:${h(deviceId)}:${endpointId}:${clusterId}:${attributeId}`,
};

/** How long records live. */
export const TTL = {
  /** MI retries within minutes; a day covers every retry with a wide margin. */
  idempotency: 24 * 3600,
  /** Cached user id of a token: tokens live hours; refreshes create new cache entries. */
  userOfToken: 24 * 3600,
  /** Deactivation must outlive every token and queued vendor delivery of the user. */
  deactivated: 400 * 24 * 3600,
  webhookEvent: 7 * 24 * 3600,
  /** Longer than any signature time window a bundle may declare in practice (an hour). */
  acceptedSignature: 2 * 3600,
  /** Account values: renewed by every bootstrap; expiry only means one more bootstrap. */
  account: 400 * 24 * 3600,
  /** A device's profile (its kind) is stable; a day bounds the effect of a replaced device. */
  profileOf: 24 * 3600,
  /** A deferred job runs within minutes; its retries within an hour. */
  job: 24 * 3600,
  lastValue: 30 * 24 * 3600,
  /** Refreshed by every discovery and event; a device silent for a month is matched afresh. */
  knownDevice: 30 * 24 * 3600,
};
