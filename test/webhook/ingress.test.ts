/**
 * The webhook ingress as an HTTP endpoint: handshakes (before and after verification), the
 * answers for misconfiguration and bad input, both API Gateway payload formats, and secrets
 * read from the environment or from Secrets Manager (loopback emulator), never logged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from "../../engine/local/secrets-manager-emulator.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { deliveryEvent } from "../../engine/webhook/delivery-event.ts";
import { WebhookSecretSource } from "../../engine/webhook/secret-source.ts";
import { acmeBundle, ACME_SECRET, contactEvent, json, rig } from "../events/helpers.ts";

let mi: MiEmulator;
let bundle: CompiledBundle;
beforeAll(async () => {
  [mi, bundle] = await Promise.all([startMiEmulator(), acmeBundle()]);
});
afterAll(async () => {
  await mi.close();
});
beforeEach(() => mi.reset());

describe("handshakes", () => {
  it("echoes a challenge without a signature when the rule says verify: false", async () => {
    const r = rig(bundle, mi);
    const res = (await r.engine.handle(deliveryEvent({ method: "GET", path: "/hooks/acme", query: { challenge: "c-42" } }))) as any;
    expect(res).toMatchObject({ statusCode: 200, body: "c-42", headers: { "content-type": "text/plain; charset=utf-8" } });
    expect(mi.events).toHaveLength(0);
  });

  it("answers a ping only once the delivery is verified, with a JSON body built by the mapping", async () => {
    const r = rig(bundle, mi);
    const unsigned = (await r.engine.handle(deliveryEvent({ path: "/hooks/acme", body: { type: "ping", nonce: "n-1" } }))) as any;
    expect(unsigned.statusCode).toBe(401);
    const signed = await r.deliver({ type: "ping", nonce: "n-1" });
    expect(signed.statusCode).toBe(200);
    expect(signed.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(signed.body)).toEqual({ pong: "n-1" });
    expect(mi.events).toHaveLength(0);
  });
});

describe("answers", () => {
  it("fails closed with 500 when C2C_CONNECTOR_ID is not set, and sends nothing", async () => {
    const r = rig(bundle, mi, { env: { ACME_WEBHOOK_SECRET: ACME_SECRET } });
    const res = await r.deliver({ events: [contactEvent("n-1", true)] });
    expect(res.statusCode).toBe(500);
    expect(mi.events).toHaveLength(0);
    expect(r.logs.some((l) => l.level === "error" && l.message.includes("C2C_CONNECTOR_ID"))).toBe(true);
  });

  it("answers 500 when the secret's environment variable is missing, naming the variable only", async () => {
    const r = rig(bundle, mi, { env: { C2C_CONNECTOR_ID: "acme-connector" } });
    const res = await r.deliver({ events: [contactEvent("m-1", true)] });
    expect(res.statusCode).toBe(500);
    expect(JSON.stringify(r.logs)).toContain("ACME_WEBHOOK_SECRET is not set");
  });

  it("answers 400 for a verified body that is not JSON", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver("{ not json");
    expect(res.statusCode).toBe(400);
    expect(mi.events).toHaveLength(0);
  });

  it("answers 415, never 200, when a body sent with a wrong content type yields no events", async () => {
    const r = rig(bundle, mi);
    const delivery = { events: [contactEvent("ct-1", true)] };
    // JSON labelled as a form: read as a form, the mapping finds no events. Acknowledging would drop them.
    const form = await r.deliver(delivery, { contentType: "application/x-www-form-urlencoded" });
    expect(form.statusCode).toBe(415);
    expect(form.body).toContain("application/x-www-form-urlencoded");
    const textBody = await r.deliver("events=contact", { contentType: "text/plain" });
    expect(textBody.statusCode).toBe(415);
    expect(mi.events).toHaveLength(0);
    expect(r.logs.some((l) => l.level === "warn" && l.message === "webhook body yielded no events: not JSON")).toBe(true);
    // Mislabelled but recognisably JSON: read as JSON and delivered, as before.
    const mislabelled = await r.deliver(delivery, { contentType: "text/plain" });
    expect(mislabelled.statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
  });

  it("acknowledges an event without a device id, logging why nothing was sent", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver({ events: [{ event_id: "u-1", kind: "contact", open: true }] });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ unmapped: 1, sent: 0 });
    expect(r.logs.some((l) => l.message === "webhook event not mapped to a device event")).toBe(true);
  });

  it("answers an API Gateway REST (1.0) event in kind", async () => {
    const r = rig(bundle, mi);
    const res = (await r.engine.handle(deliveryEvent({ version: "1.0", method: "GET", path: "/hooks/acme", query: { challenge: "v1" } }))) as any;
    expect(res).toMatchObject({ statusCode: 200, body: "v1", isBase64Encoded: false });
  });

  it("gives an event that is neither MI nor HTTP an MI-style 400", async () => {
    const r = rig(bundle, mi);
    expect(await r.engine.handle({ source: "aws.events" })).toMatchObject({ header: { responseCode: 400 } });
  });
});

describe("secrets from Secrets Manager", () => {
  let sm: SecretsManagerEmulator;
  const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme-webhook-AbCdEf";
  beforeAll(async () => {
    sm = await startSecretsManagerEmulator({ secrets: [{ arn, versionId: "v1", value: { webhookSecret: ACME_SECRET } }] });
  });
  afterAll(async () => {
    await sm.close();
  });

  function smBundle(): CompiledBundle {
    const b = structuredClone(bundle);
    b.webhooks!.verify.secret = { env: "ACME_WEBHOOK_SECRET_ARN", secretsManager: true, key: "webhookSecret" };
    return b;
  }

  it("verifies with the current secret value, read once and cached", async () => {
    const env = { ACME_WEBHOOK_SECRET_ARN: arn, C2C_CONNECTOR_ID: "acme-connector" };
    const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    const r = rig(smBundle(), mi, { env, handler: { secrets: new WebhookSecretSource({ env, client }) } });
    const before = sm.calls;
    expect((await r.deliver({ events: [contactEvent("sm-1", true)] })).statusCode).toBe(200);
    expect((await r.deliver({ events: [contactEvent("sm-2", false)] })).statusCode).toBe(200);
    expect((await r.deliver({ events: [contactEvent("sm-3", false)] }, { secret: "wrong" })).statusCode).toBe(401);
    expect(sm.calls - before).toBe(1);
    expect(mi.events).toHaveLength(2);
    client.destroy();
  });

  it("the template's default: the mapping's plain variable holds a Secrets Manager ARN, and the secret is read from there", async () => {
    // The acme mapping declares `secret: { env: ACME_WEBHOOK_SECRET }` without secretsManager; the
    // generated template passes the secret's ARN in that variable unless the deployer opts in to plaintext.
    const plainArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme-plain-GhIjKl";
    const local = await startSecretsManagerEmulator({ secrets: [{ arn: plainArn, versionId: "v1", value: ACME_SECRET }] });
    const env = { ACME_WEBHOOK_SECRET: plainArn, C2C_CONNECTOR_ID: "acme-connector" };
    const client = new SecretsManagerClient({ endpoint: local.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    try {
      expect(bundle.webhooks!.verify.secret).toEqual({ env: "ACME_WEBHOOK_SECRET" });
      const r = rig(bundle, mi, { env, handler: { secrets: new WebhookSecretSource({ env, client }) } });
      expect((await r.deliver({ events: [contactEvent("sm-plain-1", true)] })).statusCode).toBe(200);
      expect((await r.deliver({ events: [contactEvent("sm-plain-2", true)] }, { secret: plainArn })).statusCode).toBe(401);
      expect(local.calls).toBe(1);
      expect(JSON.stringify(r.logs)).not.toContain(ACME_SECRET);
    } finally {
      client.destroy();
      await local.close();
    }
  });

  it("refuses deliveries with 500 when the secret cannot be read", async () => {
    const env = { ACME_WEBHOOK_SECRET_ARN: `${arn}-missing`, C2C_CONNECTOR_ID: "acme-connector" };
    const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    const r = rig(smBundle(), mi, { env, handler: { secrets: new WebhookSecretSource({ env, client }) } });
    expect((await r.deliver({ events: [contactEvent("sm-4", true)] })).statusCode).toBe(500);
    expect(JSON.stringify(r.logs)).not.toContain(arn);
    client.destroy();
  });

  it("registers the resolved secret with the logger, so no later log line can carry it", async () => {
    const env = { ACME_WEBHOOK_SECRET: ACME_SECRET, C2C_CONNECTOR_ID: "acme-connector" };
    const r = rig(bundle, mi, { env });
    await r.deliver({ events: [contactEvent("lg-1", true)] });
    r.engine.deps.logger.warn("a careless line", { note: `secret=${ACME_SECRET}` });
    expect(JSON.stringify(r.logs)).not.toContain(ACME_SECRET);
  });
});
