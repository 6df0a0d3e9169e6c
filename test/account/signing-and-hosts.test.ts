/**
 * Request signing against the published Tuya test vectors (developer.tuya.com "Sign requests",
 * reproduced by several SDK test suites), allowed-host patterns, the OAuth variants in the
 * registration, the mapping checks of the account capabilities, and the trace masking of a
 * bootstrap response.
 */
import { describe, expect, it } from "vitest";
import { Evaluator } from "../../engine/runtime/expressions.ts";
import { RequestSigner } from "../../engine/runtime/signing.ts";
import type { CompiledSigning } from "../../engine/mapping/compiled.ts";
import { checkAllowedHost, hostAllowed } from "../../engine/vendor/allowed-hosts.ts";
import { validateMappingText } from "../../engine/mapping/bundle.ts";
import { registrationRequests } from "../../engine/registration/registration.ts";
import { compiledBundle } from "../registration/bundle-fixture.ts";
import { checkAgainstShape } from "../registration/smithy-check.ts";
import { readFileSync } from "node:fs";

// Tuya's documented example: client_id, secret, t, nonce, two Signature-Headers, empty body.
const VECTOR = {
  clientId: "1KAD46OrT9HafiKdsXeg",
  secret: "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC",
  t: 1588925778000,
  nonce: "5138cc3a9033d69856923fd07b491173",
  token: "3f4eda2bdec17232f67c0b188af3eec1",
};
const SIGNED_HEADERS = "area_id:29a33e8796834b1efa6\\ncall_id:8afdb70ab2ed11eb85290242ac130003\\n";

function signer(stringToSign: string, auth: "with token" | "token request") {
  const spec: CompiledSigning = {
    algorithm: "HMAC-SHA256",
    key: { env: "TUYA_SECRET" },
    stringToSign: { src: stringToSign, at: "test:1:1" },
    encoding: "HEX",
    headers: { sign: { expr: { src: "signature", at: "test:2:1" } }, t: { expr: { src: "timestamp", at: "test:3:1" } } },
  };
  return new RequestSigner(
    spec,
    new Evaluator(),
    auth === "with token" ? { kind: "oauth", token: VECTOR.token } : { kind: "none" },
    { now: () => VECTOR.t, nonce: () => VECTOR.nonce },
    { TUYA_SECRET: VECTOR.secret, C2C_OAUTH_CLIENT_ID: VECTOR.clientId },
  );
}

describe("HMAC-SHA256 request signing (Tuya's published vectors)", () => {
  const canonical = `method & '\\n' & bodyHash & '\\n' & '${SIGNED_HEADERS}' & '\\n' & url`;

  it("token request: client_id + t + nonce + stringToSign", async () => {
    const s = signer(`clientId & timestamp & nonce & ${canonical}`, "token request");
    const headers = await s.headers({ method: "GET", url: "https://openapi.tuyaus.com/v1.0/token?grant_type=1", body: "" }, { settings: {}, responses: {} });
    expect(headers).toEqual({ sign: "9E48A3E93B302EEECC803C7241985D0A34EB944F40FB573C7B5C2A82158AF13E", t: "1588925778000" });
  });

  it("business request: client_id + access_token + t + nonce + stringToSign, query sorted", async () => {
    const s = signer(`clientId & token & timestamp & nonce & ${canonical}`, "with token");
    // Query given out of order: the canonical `url` sorts it.
    const headers = await s.headers(
      { method: "GET", url: "https://openapi.tuyaus.com/v2.0/apps/schema/users?page_size=50&page_no=1", body: "" },
      { settings: {}, responses: {}, token: VECTOR.token },
    );
    expect(headers.sign).toBe("AE4481C692AA80B25F3A7E12C3A5FD9BBF6251539DD78E565A1A72A508A88784");
  });

  it("a missing key is a clear refusal, not an unsigned request", async () => {
    const s = new RequestSigner(
      { algorithm: "HMAC-SHA256", key: { env: "NOT_SET" }, stringToSign: { src: "method", at: "t:1:1" }, encoding: "hex", headers: {} },
      new Evaluator(),
      { kind: "none" },
      undefined,
      {},
    );
    await expect(s.headers({ method: "GET", url: "https://x.test/", body: "" }, { settings: {}, responses: {} })).rejects.toThrow(
      /signing key \(environment variable NOT_SET\) is not set/,
    );
  });
});

describe("allowedHosts patterns", () => {
  it("`*` stays inside one DNS label", () => {
    expect(hostAllowed("shelly-49-eu.shelly.cloud", ["*.shelly.cloud"])).toBe(true);
    expect(hostAllowed("a.b.shelly.cloud", ["*.shelly.cloud"])).toBe(false);
    expect(hostAllowed("shelly.cloud.evil.example", ["*.shelly.cloud"])).toBe(false);
    expect(hostAllowed("evilshelly.cloud", ["*.shelly.cloud"])).toBe(false);
    expect(hostAllowed("openapi-ueaz.tuyaus.com", ["openapi*.tuyaus.com"])).toBe(true);
    expect(hostAllowed("OPENAPI.TUYAEU.COM", ["openapi.tuyaeu.com"])).toBe(true);
  });

  it("a refused host is named in the error", () => {
    expect(() => checkAllowedHost(new URL("https://attacker.example/x"), ["*.shelly.cloud"], "call 'x'")).toThrow(
      "call 'x': host attacker.example is not in api.allowedHosts (*.shelly.cloud); the call is refused",
    );
  });
});

const vault = readFileSync("test/account/bundles/vault/connector.yaml", "utf8");
const rules = (text: string) => validateMappingText(text, "mappings/x/connector.yaml").diagnostics.filter((d) => d.severity === "error").map((d) => `${d.line}:${d.rule}`);

describe("mapping checks of the account capabilities", () => {
  it("the test bundle is valid", () => {
    expect(rules(vault)).toEqual([]);
  });

  it("a base URL from an expression without allowedHosts is an error at its line", () => {
    const text = vault.replace(`  allowedHosts: ["*.vault.test"]\n`, "");
    expect(rules(text)).toEqual([`19:mapping/host-needs-allowed-hosts`]);
  });

  it("a static host outside allowedHosts is an error", () => {
    expect(rules(vault.replace("baseUrl: https://eu.vault.test", "baseUrl: https://api.other.example"))).toEqual(["18:mapping/host-not-allowed"]);
  });

  it("an OAuth URL naming a missing setting is an error", () => {
    expect(rules(vault.replace("/{settings.apiVersion}/token", "/{settings.region}/token"))).toEqual(["12:mapping/unknown-setting"]);
  });

  it("a signing key from an undeclared account value is an error", () => {
    expect(rules(vault.replace("key: { env: C2C_OAUTH_CLIENT_SECRET }", "key: { account: nope }"))).toEqual(["26:mapping/unknown-account-value"]);
  });
});

describe("OAuth variants in the registration", () => {
  const NS = "com.amazonaws.iotmanagedintegrations#";
  const { shapes } = JSON.parse(readFileSync("test/registration/fixtures/registration.shapes.json", "utf8"));
  const filled = {
    lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:acme-connector",
    cloudConnectorId: "c2c-abc123",
    secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-client-AbCdEf",
    secretVersionId: "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
  };
  const base = { authorizationUrl: "https://auth.acme.example/oauth/authorize", tokenUrl: "https://auth.acme.example/oauth/token", scopes: ["x"] };

  it("a public client asks for no client secret, says MI cannot express it, and the body still fits the model", () => {
    const req = registrationRequests(compiledBundle({ oauth: { ...base, tokenEndpointAuthMethod: "NONE" } }), filled);
    expect(req.secretTemplate).toEqual({ clientId: "<CLIENT_ID>" });
    expect(req.limitations.join("\n")).toMatch(/public/);
    expect(checkAgainstShape(shapes, `${NS}CreateConnectorDestinationRequest`, req.createConnectorDestination)).toEqual([]);
  });

  it("extra authorization and token parameters go into the URLs' query strings", () => {
    const req = registrationRequests(
      compiledBundle({ oauth: { ...base, tokenEndpointAuthMethod: "HTTP_BASIC", authorizationParams: { access_type: "offline", prompt: "consent" }, tokenParams: { grant_type: "code" } } }),
      filled,
    );
    const { oAuth } = req.createConnectorDestination.AuthConfig as { oAuth: { authUrl: string; tokenUrl: string } };
    expect(oAuth.authUrl).toBe("https://auth.acme.example/oauth/authorize?access_type=offline&prompt=consent");
    expect(oAuth.tokenUrl).toBe("https://auth.acme.example/oauth/token?grant_type=code");
    expect(req.limitations).toEqual([]);
    expect(checkAgainstShape(shapes, `${NS}CreateConnectorDestinationRequest`, req.createConnectorDestination)).toEqual([]);
  });

  it("query-string client credentials and PKCE are reported as what MI cannot express", () => {
    const req = registrationRequests(compiledBundle({ oauth: { ...base, tokenEndpointAuthMethod: "QUERY_STRING_CREDENTIALS", pkce: true } }));
    expect(req.limitations).toHaveLength(2);
    expect((req.createConnectorDestination.AuthConfig as any).oAuth.tokenEndpointAuthenticationScheme).toBe("REQUEST_BODY_CREDENTIALS");
  });

  it("settings are substituted into the OAuth URLs of a compiled bundle", () => {
    const out = validateMappingText(vault, "mappings/vault/connector.yaml");
    expect(out.bundle?.oauth?.tokenUrl).toBe("https://auth.vault.test/v3/token");
  });
});

describe("deploy template of a bundle with account values and signing", () => {
  it("asks for the account key and the client credentials (the signing key), nothing for a public client's secret", async () => {
    const { deployTemplate } = await import("../../engine/deploy/template.ts");
    const out = validateMappingText(vault, "mappings/vault/connector.yaml");
    const t = deployTemplate(out.bundle!) as any;
    expect(t.Parameters.AccountKey).toMatchObject({ NoEcho: true, MinLength: 32 });
    const vars = t.Resources.ConnectorFunction?.Properties?.Environment?.Variables ?? JSON.stringify(t);
    expect(JSON.stringify(vars)).toContain("C2C_ACCOUNT_KEY");
    expect(t.Parameters.OAuthClientSecret).toBeDefined();
  });
});

describe("the Tuya bundle's declared signature", () => {
  it("is Tuya's business-API formula (no signature headers), on the request as sent", async () => {
    const { loadBundleOrThrow } = await import("../../engine/mapping/bundle.ts");
    const { createHmac, createHash } = await import("node:crypto");
    const tuya = await loadBundleOrThrow("mappings/tuya");
    const s = new RequestSigner(tuya.api.signing!, new Evaluator(), { kind: "oauth", token: VECTOR.token }, { now: () => VECTOR.t, nonce: () => VECTOR.nonce }, {
      C2C_OAUTH_CLIENT_SECRET: VECTOR.secret,
      C2C_OAUTH_CLIENT_ID: VECTOR.clientId,
    });
    const body = '{"commands":[{"code":"switch_led","value":true}]}';
    const headers = await s.headers({ method: "POST", url: "https://openapi.tuyaeu.com/v1.0/devices/bf71/commands", body }, { settings: {}, responses: {}, token: VECTOR.token });
    const stringToSign = `POST\n${createHash("sha256").update(body).digest("hex")}\n\n/v1.0/devices/bf71/commands`;
    const expected = createHmac("sha256", VECTOR.secret).update(VECTOR.clientId + VECTOR.token + VECTOR.t + VECTOR.nonce + stringToSign).digest("hex").toUpperCase();
    expect(headers).toEqual({ client_id: VECTOR.clientId, sign: expected, t: String(VECTOR.t), nonce: VECTOR.nonce, sign_method: "HMAC-SHA256" });
  });
});
