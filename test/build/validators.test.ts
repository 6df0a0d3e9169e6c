import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  VALIDATORS_DTS_FILE,
  VALIDATORS_FILE,
  renderValidators,
  renderValidatorsDts,
  requiresToImports,
} from "../../scripts/generate-validators.ts";
import {
  validateConnectorId,
  validateEventBody,
  validateMiRequest,
  validateMiResponse,
} from "../../engine/validation/validators.ts";

// Copies of shared/spec/examples (the protocol documentation's own examples).
const EXAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/spec-examples");
const example = (name: string) => JSON.parse(readFileSync(path.join(EXAMPLES, name), "utf8"));
const examplesMatching = (re: RegExp) => readdirSync(EXAMPLES).filter((f) => re.test(f));
const clone = <T>(v: T): T => structuredClone(v);

describe("generated validators", () => {
  it("are fresh: regenerating gives the committed files byte for byte", () => {
    expect(renderValidators()).toBe(readFileSync(VALIDATORS_FILE, "utf8"));
    expect(renderValidatorsDts()).toBe(readFileSync(VALIDATORS_DTS_FILE, "utf8"));
  });

  it("are ES modules that never require() and carry no ajv compiler import", () => {
    const code = readFileSync(VALIDATORS_FILE, "utf8");
    expect(code).not.toMatch(/\brequire\(/);
    const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^ajv\/dist\/runtime\//);
  });

  it("hoists ajv runtime requires into imports and refuses any other require", () => {
    const out = requiresToImports('"use strict";\nconst func2 = require("ajv/dist/runtime/ucs2length").default;\nx();');
    expect(out).toContain('import func2Module from "ajv/dist/runtime/ucs2length.js";');
    expect(out).not.toContain("require(");
    expect(() => requiresToImports('"use strict";\nconst a = require("x");')).toThrow(/require/);
  });
});

describe("validateMiRequest", () => {
  const requests = examplesMatching(/^(activate-user|discover-devices|send-command|deactivate-user)\.request\..*\.json$/);

  it("covers the four operations in both auth flavours", () => {
    const ops = new Set(requests.map((f) => example(f).payload.operationName));
    expect(ops).toEqual(new Set(["AWS.ActivateUser", "AWS.DiscoverDevices", "AWS.SendCommand", "AWS.DeactivateUser"]));
    expect(requests.some((f) => f.includes("general-authorization"))).toBe(true);
  });

  it.each(requests)("accepts %s", (file) => {
    expect(validateMiRequest(example(file))).toEqual({ ok: true });
  });

  it("rejects an unknown operation with the path and allowed values", () => {
    const bad = example("activate-user.request.oauth.json");
    bad.payload.operationName = "AWS.Reboot";
    const result = validateMiRequest(bad);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const issue = result.errors.find((e) => e.path === "$.payload.operationName");
      expect(issue?.message).toContain("AWS.ActivateUser");
    }
  });

  it("rejects an OAuth request without a token, naming the missing member", () => {
    const bad = example("activate-user.request.oauth.json");
    delete bad.header.auth.token;
    const result = validateMiRequest(bad);
    expect(result).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.header.auth.token", keyword: "required" })]) });
  });

  it("rejects a SendCommand without endpoints and a DiscoverDevices with a bad discovery id", () => {
    const command = example("send-command.request.oauth.json");
    delete command.payload.endpoints;
    expect(validateMiRequest(command)).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.payload.endpoints" })]) });
    const discover = example("discover-devices.request.oauth.json");
    discover.payload.deviceDiscoveryId = "not/alnum";
    expect(validateMiRequest(discover)).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.payload.deviceDiscoveryId", keyword: "pattern" })]) });
  });

  it("never quotes the offending value (tokens are secrets)", () => {
    const bad = example("activate-user.request.oauth.json");
    bad.header.auth.token = { secret: "s3cr3t-token-value" };
    const result = validateMiRequest(bad);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain("s3cr3t-token-value");
  });

  it("rejects non-objects", () => {
    for (const v of [null, "x", 42, []]) expect(validateMiRequest(v).ok).toBe(false);
  });
});

describe("validateMiResponse", () => {
  it.each(["activate-user.response.json", "send-command.response.json", "discover-devices.response.json", "connector-response.generic-ack.json"])(
    "accepts %s",
    (file) => expect(validateMiResponse(example(file))).toEqual({ ok: true }),
  );

  it("rejects a missing or out-of-range responseCode and unknown members", () => {
    const ack = example("activate-user.response.json");
    expect(validateMiResponse({ ...ack, header: {} })).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.header.responseCode" })]) });
    expect(validateMiResponse({ ...ack, header: { responseCode: 700 } })).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ keyword: "maximum" })]) });
    expect(validateMiResponse({ ...clone(ack), extra: 1 })).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.extra", keyword: "additionalProperties" })]) });
  });
});

describe("validateEventBody / validateConnectorId", () => {
  const events = examplesMatching(/^send-connector-event\.api-example\..*\.request\.json$/);

  it.each(events)("accepts the body of %s and its ConnectorId", (file) => {
    const { ConnectorId, ...body } = example(file);
    expect(validateEventBody(body)).toEqual({ ok: true });
    expect(validateConnectorId(ConnectorId)).toEqual({ ok: true });
  });

  it("rejects an unknown Operation, a body carrying ConnectorId, and an empty ConnectorId", () => {
    const { ConnectorId, ...body } = example("send-connector-event.api-example.device-event.request.json");
    expect(validateEventBody({ ...body, Operation: "DEVICE_SNEEZE" })).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.Operation", keyword: "enum" })]) });
    expect(validateEventBody({ ...body, ConnectorId })).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "$.ConnectorId" })]) });
    expect(validateConnectorId("")).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ path: "ConnectorId" })]) });
  });
});
