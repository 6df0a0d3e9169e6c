/**
 * Fixture files (mappings/<vendor>/tests/*.yaml, schemas/fixture.schema.json): an MI request,
 * the vendor exchanges it should cause, and the expected ACK and SendConnectorEvent bodies.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { parse } from "yaml";
import type { Exchange } from "./vendor-simulator.ts";
import type { DeliverySpec } from "../webhook/delivery-event.ts";
import type { QueuedJob } from "./fixture-job-queue.ts";

export interface Fixture {
  file: string;
  name: string;
  description?: string;
  /** The MI request; absent in webhook fixtures. */
  request?: Record<string, unknown>;
  /** A vendor webhook delivery (instead of `request`). */
  webhook?: WebhookDelivery;
  /** Several steps against the same engine, in order (instead of `request`/`webhook`). */
  deliveries?: FixtureStep[];
  auth?: { token?: string; secret?: Record<string, unknown> };
  settings?: Record<string, unknown>;
  /** Test-only environment (webhook secrets, C2C_CONNECTOR_ID), set for the fixture's run. */
  env?: Record<string, string>;
  /** The state the fixture starts from (engine target): see engine/testing/fixture-given.ts. */
  given?: FixtureGiven;
  vendor: Exchange[];
  expect: {
    ack?: Record<string, unknown>;
    http?: ExpectedHttp;
    events?: Array<Record<string, unknown>>;
    vendorRequests?: "exact" | "subset";
  };
}

/** A job a step is expected to queue: its delay exactly, or within bounds (a delay that depends on the clock). */
export interface ExpectedJob {
  operation: QueuedJob["operation"];
  delaySeconds: number | { min?: number; max?: number };
}

export interface FixtureGiven {
  /** Requests already counted this minute, by quota: `api`, or the name of a call with a `quota`. */
  quotaUsed?: Record<string, number>;
}


/** A webhook delivery the runner turns into a Lambda function URL (or API Gateway REST) event. */
export interface WebhookDelivery {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string exactly as written. */
  body?: unknown;
  /**
   * hmac: signs the raw body (or `<timestamp>.<body>` with timestampHeader) into `header`; jwt: a
   * bearer token signed with a test key (`keyFile` in the fixture, read into `privateJwk`).
   */
  sign?: DeliverySpec["sign"];
  /** "2.0" (default): function URL / HTTP API; "1.0": API Gateway REST. */
  version?: "1.0" | "2.0";
}

export interface ExpectedHttp {
  status: number;
  /** A string is compared exactly; an object as a subset of the JSON answer. */
  body?: unknown;
}

export interface FixtureStep {
  request?: Record<string, unknown>;
  webhook?: WebhookDelivery;
  /** Sends the event built for step `replay` (1-based) again, byte for byte: a captured delivery replayed. */
  replay?: number;
  /** The polling schedule's tick (engine/polling/schedule.ts): a poll round starts. */
  poll?: Record<string, never>;
  /** Moves the job queue's clock: jobs due by then run (a delay shown, never slept). */
  wait?: { seconds: number };
  /** MI answers the next `times` SendConnectorEvent calls of this step with `status`. */
  miFault?: { status: 429 | 500 | 503; times: number };
  expect?: {
    ack?: Record<string, unknown>;
    http?: ExpectedHttp;
    /** The answer to a poll tick (subset), e.g. `{ users: 1 }`. */
    round?: Record<string, unknown>;
    /** Exactly the jobs the step put on the job queue, in order (jobs they queued included). */
    jobs?: ExpectedJob[];
  };
}

/** Steps that use the job queue: such fixtures run with the SQS job queue (engine/testing/fixture-job-queue.ts). */
export function usesJobQueue(fixture: Fixture): boolean {
  return (fixture.deliveries ?? []).some((s) => s.poll !== undefined || s.wait !== undefined || s.expect?.jobs !== undefined);
}

async function readData(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  return file.endsWith(".json") ? JSON.parse(text) : parse(text);
}

/** Loads every fixture of a bundle, resolving `file:` references relative to each fixture. */
export async function loadFixtures(bundleDir: string): Promise<Fixture[]> {
  const dir = join(bundleDir, "tests");
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".yaml") || n.endsWith(".yml")).sort();
  } catch {
    return [];
  }
  const out: Fixture[] = [];
  for (const n of names) out.push(await loadFixture(join(dir, n)));
  return out;
}

export async function loadFixture(file: string): Promise<Fixture> {
  const raw = (await readData(file)) as Record<string, any>;
  const base = dirname(file);
  const request = await resolveRequest(raw.request, base);
  const vendor: Exchange[] = [];
  for (const ex of raw.vendor ?? []) {
    const response = { ...ex.response };
    if (typeof response.bodyFile === "string") {
      response.body = await readData(join(base, response.bodyFile));
      delete response.bodyFile;
    }
    vendor.push({ request: ex.request, response, ...(typeof ex.anyOrder === "string" ? { anyOrder: ex.anyOrder } : {}) });
  }
  const fixture: Fixture = {
    file: relative(process.cwd(), file),
    name: raw.name,
    description: raw.description,
    request,
    auth: raw.auth,
    settings: raw.settings,
    vendor,
    expect: raw.expect,
  };
  if (raw.webhook !== undefined) fixture.webhook = await resolveWebhook(raw.webhook, base);
  if (raw.env !== undefined) fixture.env = raw.env;
  if (raw.given !== undefined) fixture.given = raw.given;
  if (Array.isArray(raw.deliveries)) {
    fixture.deliveries = [];
    for (const step of raw.deliveries) {
      const out: FixtureStep = { ...step };
      if (step.request !== undefined) out.request = await resolveRequest(step.request, base);
      if (step.webhook !== undefined) out.webhook = await resolveWebhook(step.webhook, base);
      fixture.deliveries.push(out);
    }
  }
  return fixture;
}

async function resolveRequest(request: any, base: string): Promise<Record<string, unknown> | undefined> {
  return request && typeof request.file === "string" && Object.keys(request).length === 1
    ? ((await readData(join(base, request.file))) as Record<string, unknown>)
    : request;
}

/** `body: { file: ... }` reads the body from a file; a JSON file is sent as its exact text. */
async function resolveWebhook(webhook: any, base: string): Promise<WebhookDelivery> {
  if (webhook?.sign?.scheme === "httpSignature" && typeof webhook.sign.keyFile === "string") {
    // PEM files next to the fixture: the signing key, and what the key server publishes when it differs.
    const { keyFile, publishedKeyFile, signedBody, ...sign } = webhook.sign;
    webhook = {
      ...webhook,
      sign: {
        ...sign,
        privateKeyPem: await readFile(join(base, keyFile), "utf8"),
        ...(typeof publishedKeyFile === "string" ? { publishedKeyPem: await readFile(join(base, publishedKeyFile), "utf8") } : {}),
        ...(signedBody !== undefined ? { signedBody: typeof signedBody === "string" ? signedBody : JSON.stringify(signedBody) } : {}),
      },
    };
  }
  if (webhook?.sign?.scheme === "jwt" && typeof webhook.sign.keyFile === "string") {
    // The test key as a JWK file next to the fixture: read here so signing stays synchronous.
    const { keyFile, publishedKeyFile, ...sign } = webhook.sign;
    const published = typeof publishedKeyFile === "string" ? { publishedJwk: await readData(join(base, publishedKeyFile)) } : {};
    webhook = { ...webhook, sign: { ...sign, privateJwk: await readData(join(base, keyFile)), ...published } };
  }
  const body = webhook.body;
  if (body && typeof body === "object" && typeof body.file === "string" && Object.keys(body).length === 1) {
    return { ...webhook, body: await readFile(join(base, body.file), "utf8") };
  }
  return webhook;
}
