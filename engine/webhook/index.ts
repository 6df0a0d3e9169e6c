/** Transport-level webhook pieces: event normalization, signature checks, body parsing, handshakes. */
export * from "./http-event.ts";
export * from "./verify.ts";
export * from "./envelope.ts";
export * from "./handshake.ts";
export { parseDeliveryTimestamp, checkTimestampWindow, type TimestampCheck } from "./timestamp.ts";
export { getAtPath } from "./dot-path.ts";
