/**
 * Makes a SendConnectorEvent fit the model where that can be done without losing meaning and
 * predictably (c2c-protocol.md §8.2), then validates every resulting event. What cannot be fixed is
 * an `InvalidEventError`, never a silent drop.
 *
 * Fixes:
 * - `Message`: the model allows only `[\sa-zA-Z0-9_.,@-]`, 1–256 chars. Accents are stripped (é → e),
 *   every run of other characters becomes one space, whitespace is collapsed and trimmed, the text is
 *   cut to 256; an empty or null Message is omitted (the member is optional).
 * - `MatterEndpoint.clusters`: at most 5 per event, and at most 5 commands / 5 events per cluster.
 *   Larger payloads are split over several events with the same other members. A cluster with too many
 *   commands/events is cut into parts with disjoint subsets; its attributes travel with the first part.
 *   Part k of every cluster goes into the k-th round of events, so one event never holds two parts
 *   of the same cluster and attributes come first.
 * - empty `commands` / `events` maps (the model wants 1–5 entries) are omitted: they say nothing.
 */
import { InvalidEventError, type EventValidationIssue } from "./event-errors.ts";
import { getEventValidator } from "./event-validation.ts";
import { eventBody, type MatterCluster, type SendConnectorEventInput } from "./send-connector-event.ts";

export const MAX_MESSAGE_LENGTH = 256;
export const MAX_CLUSTERS_PER_EVENT = 5;
export const MAX_ENTRIES_PER_CLUSTER_MAP = 5;

export interface NormalizedEvents {
  /** One or more events, in the order they should be sent. */
  events: SendConnectorEventInput[];
  /** What was changed, for logs (never contains body values). */
  problems: string[];
}

/**
 * Events this module produced and validated. A part the publisher normalised reaches the client
 * as this very object, so the client does not normalise and validate it a second time (one
 * schema check per event, not two). Only objects made here are in it, and nothing changes them
 * afterwards; an event rebuilt from the store (the outbox) is a new object and checked again.
 */
const checked = new WeakSet<SendConnectorEventInput>();

/** Normalizes, then validates. Throws `InvalidEventError` if any resulting event is still invalid. */
export function normalizeEvent(input: SendConnectorEventInput): NormalizedEvents {
  if (checked.has(input)) return { events: [input], problems: [] };
  if (input === null || typeof input !== "object") {
    throw new InvalidEventError([{ path: "$", message: "must be an object", keyword: "type" }]);
  }
  const problems: string[] = [];
  const base = normalizeMessage({ ...input }, problems);
  const events = splitMatterEndpoint(base, problems);

  const validator = getEventValidator();
  const issues: EventValidationIssue[] = [...validator.connectorId(input.ConnectorId)];
  events.forEach((event, i) => {
    const prefix = events.length > 1 ? `(part ${i + 1} of ${events.length}) ` : "";
    for (const issue of validator.body(eventBody(event))) issues.push({ ...issue, message: prefix + issue.message });
  });
  if (issues.length > 0) throw new InvalidEventError(issues, problems);
  for (const event of events) checked.add(event);
  return { events, problems };
}

export function sanitizeMessage(message: string): string {
  return truncateMessage(cleanMessage(message));
}

function cleanMessage(message: string): string {
  return message
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^\sa-zA-Z0-9_.,@-]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function truncateMessage(cleaned: string): string {
  return cleaned.slice(0, MAX_MESSAGE_LENGTH).trim();
}

function normalizeMessage(event: SendConnectorEventInput, problems: string[]): SendConnectorEventInput {
  if (!("Message" in event)) return event;
  const message: unknown = event.Message;
  if (message === undefined || message === null) {
    delete event.Message;
    if (message === null) problems.push("Message: null omitted");
    return event;
  }
  if (typeof message !== "string") return event; // a type error: left for validation to report
  const cleaned = cleanMessage(message);
  const sanitized = truncateMessage(cleaned);
  if (sanitized === message) return event;
  if (sanitized === "") {
    delete event.Message;
    problems.push("Message: nothing left after removing disallowed characters, omitted");
  } else {
    event.Message = sanitized;
    if (cleaned !== message) problems.push("Message: disallowed characters replaced, whitespace collapsed");
    if (sanitized !== cleaned) problems.push(`Message: truncated to ${MAX_MESSAGE_LENGTH} characters`);
  }
  return event;
}

function splitMatterEndpoint(event: SendConnectorEventInput, problems: string[]): SendConnectorEventInput[] {
  const endpoint = event.MatterEndpoint;
  if (!endpoint || !Array.isArray(endpoint.clusters)) return [event];
  const clusters = endpoint.clusters;

  const rounds: MatterCluster[][] = [];
  let changed = false;
  clusters.forEach((cluster, index) => {
    const parts = splitCluster(cluster, index, problems);
    if (parts.length !== 1 || parts[0] !== cluster) changed = true;
    parts.forEach((part, k) => (rounds[k] ??= []).push(part));
  });

  const groups: MatterCluster[][] = [];
  for (const round of rounds) {
    for (let i = 0; i < round.length; i += MAX_CLUSTERS_PER_EVENT) groups.push(round.slice(i, i + MAX_CLUSTERS_PER_EVENT));
  }
  if (groups.length <= 1) {
    return changed ? [{ ...event, MatterEndpoint: { ...endpoint, clusters: groups[0] ?? [] } }] : [event];
  }
  problems.push(`MatterEndpoint: ${clusters.length} clusters split over ${groups.length} events (at most ${MAX_CLUSTERS_PER_EVENT} clusters, ${MAX_ENTRIES_PER_CLUSTER_MAP} commands and ${MAX_ENTRIES_PER_CLUSTER_MAP} events per cluster each)`);
  return groups.map((group) => ({ ...event, MatterEndpoint: { ...endpoint, clusters: group } }));
}

/** Returns `[cluster]` itself when nothing needs changing. */
function splitCluster(cluster: MatterCluster, index: number, problems: string[]): MatterCluster[] {
  if (cluster === null || typeof cluster !== "object") return [cluster];
  const commands = mapEntries(cluster.commands);
  const events = mapEntries(cluster.events);
  const dropEmpty = (commands?.length === 0) || (events?.length === 0);
  const partCount = Math.max(1, chunkCount(commands), chunkCount(events));
  if (partCount === 1 && !dropEmpty) return [cluster];

  if (commands?.length === 0) problems.push(`MatterEndpoint.clusters[${index}].commands: empty map omitted`);
  if (events?.length === 0) problems.push(`MatterEndpoint.clusters[${index}].events: empty map omitted`);
  if (partCount > 1) problems.push(`MatterEndpoint.clusters[${index}]: commands/events split into ${partCount} parts`);

  const parts: MatterCluster[] = [];
  for (let k = 0; k < partCount; k++) {
    const part: MatterCluster = {};
    if (cluster.id !== undefined) part.id = cluster.id;
    if (k === 0 && cluster.attributes !== undefined) part.attributes = cluster.attributes;
    const c = chunk(commands, k);
    if (c) part.commands = c;
    const e = chunk(events, k);
    if (e) part.events = e;
    // Members that are not maps cannot be split: keep them as they are so validation reports them.
    if (k === 0 && cluster.commands !== undefined && commands === undefined) part.commands = cluster.commands;
    if (k === 0 && cluster.events !== undefined && events === undefined) part.events = cluster.events;
    // Unknown members are kept on the first part so validation still reports them.
    if (k === 0) {
      for (const [key, value] of Object.entries(cluster)) {
        if (!["id", "attributes", "commands", "events"].includes(key)) (part as Record<string, unknown>)[key] = value;
      }
    }
    parts.push(part);
  }
  return parts;
}

/** Entries of a map member, or undefined when it is absent or not a plain object (left to validation). */
function mapEntries(map: unknown): [string, unknown][] | undefined {
  if (map === null || typeof map !== "object" || Array.isArray(map)) return undefined;
  return Object.entries(map);
}

function chunkCount(entries: [string, unknown][] | undefined): number {
  return entries ? Math.ceil(entries.length / MAX_ENTRIES_PER_CLUSTER_MAP) : 0;
}

function chunk(entries: [string, unknown][] | undefined, k: number): Record<string, unknown> | undefined {
  const slice = entries?.slice(k * MAX_ENTRIES_PER_CLUSTER_MAP, (k + 1) * MAX_ENTRIES_PER_CLUSTER_MAP);
  return slice && slice.length > 0 ? Object.fromEntries(slice) : undefined;
}
