/**
 * Every MI request example of the AWS developer guide, for the four operations, gets a
 * schema-valid ACK from the LIFX bundle (device ids adapted to a LIFX light), and the right one.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { loadFixtures } from "../../engine/testing/fixtures.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from "../../engine/local/secrets-manager-emulator.ts";
import { validateMiResponse } from "../../engine/validation/validators.ts";

const dir = new URL("./mi-requests/", import.meta.url);
const examples = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), "utf8"))] as const);

/** The LIFX light the examples are adapted to; discovery ids must be alphanumeric for MI. */
function adapt(req: any): any {
  const r = structuredClone(req);
  if (r.payload.connectorDeviceId) r.payload.connectorDeviceId = "d073d5141876";
  return r;
}

const expected: Record<string, number> = {
  "activate-user.request.oauth.json": 200,
  "discover-devices.request.oauth.json": 200,
  "discover-devices.request.oauth.older-revision.json": 200,
  "deactivate-user.request.oauth.json": 200,
  // The example drives Fan Control (0x0202), which a light does not have.
  "send-command.request.oauth.json": 404,
  // The LIFX bundle declares no General Authorization: a clear 401.
  "activate-user.request.general-authorization.json": 401,
  "discover-devices.request.general-authorization.json": 401,
  "send-command.request.general-authorization.json": 401,
  "deactivate-user.request.general-authorization.json": 401,
};

let harness: FixtureHarness;
let bundle: CompiledBundle;
let secrets: SecretsManagerEmulator;

beforeAll(async () => {
  harness = await FixtureHarness.start();
  bundle = await loadBundleOrThrow("mappings/lifx");
  harness.vendor.load((await loadFixtures("mappings/lifx")).flatMap((f) => f.vendor), "replay");
  const ga = examples.map(([, e]) => e.header.auth).filter((a) => a.type === "GeneralAuthorization");
  secrets = await startSecretsManagerEmulator({
    secrets: ga.map((a) => ({ arn: a.secretsManager.arn, versionId: a.secretsManager.versionId, value: { apiKey: "example-key-000" } })),
  });
  harness.applyEnv();
  process.env.C2C_SECRETS_MANAGER_ENDPOINT = secrets.endpoint;
});
afterAll(async () => {
  await harness.close();
  await secrets.close();
});

describe("developer-guide MI request examples", () => {
  it("covers all four operations", () => {
    const ops = new Set(examples.map(([, e]) => e.payload.operationName));
    expect([...ops].sort()).toEqual(["AWS.ActivateUser", "AWS.DeactivateUser", "AWS.DiscoverDevices", "AWS.SendCommand"]);
  });

  it.each(examples)("%s gets a schema-valid ACK", async (name, example) => {
    const engine = createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });
    const ack = (await engine.handle(adapt(example), { getRemainingTimeInMillis: () => 30_000 })) as any;
    expect(validateMiResponse(ack)).toEqual({ ok: true });
    expect(ack.header.responseCode).toBe(expected[name]);
    if (ack.header.responseCode !== 200) expect(ack.payload.responseMessage).toMatch(/\w+/);
  });

  it("a malformed payload or an unknown operation gets a 400 ACK, never an exception", async () => {
    const engine = createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });
    for (const bad of [
      { header: { auth: { type: "OAuth2.0", token: "t" } }, payload: { operationName: "AWS.Reboot", operationVersion: "1.0", connectorId: "c" } },
      { header: { auth: { type: "OAuth2.0" } }, payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0", connectorId: "c" } },
      { header: {}, payload: {} },
      { payload: "nope" },
    ]) {
      const ack = (await engine.handle(bad)) as any;
      expect(validateMiResponse(ack)).toEqual({ ok: true });
      expect(ack.header.responseCode).toBe(400);
      expect(ack.payload.responseMessage).toMatch(/malformed request/);
    }
  });
});
