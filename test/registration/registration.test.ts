import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PLACEHOLDERS, placeholdersIn, registrationRequests } from "../../engine/registration/registration.ts";
import { compiledBundle } from "./bundle-fixture.ts";
import { checkAgainstShape } from "./smithy-check.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"));
const { shapes } = fixture("registration.shapes.json");
const NS = "com.amazonaws.iotmanagedintegrations#";
const checkCloudConnector = (v: unknown) => checkAgainstShape(shapes, `${NS}CreateCloudConnectorRequest`, v);
const checkDestination = (v: unknown) => checkAgainstShape(shapes, `${NS}CreateConnectorDestinationRequest`, v);

const oauthBundle = compiledBundle({
  oauth: {
    authorizationUrl: "https://cloud.acme.example/oauth/authorize",
    tokenUrl: "https://cloud.acme.example/oauth/token",
    scopes: ["devices:read", "devices:write"],
    tokenEndpointAuthMethod: "REQUEST_BODY_CREDENTIALS",
    proactiveRefreshDays: 30,
  },
});
const gaBundle = compiledBundle({
  vendor: { id: "keyco", name: "Key Co. (API keys)" },
  generalAuthorization: { authMaterialName: "KeyCoApiKey", apply: { scheme: "apiKeyHeader", field: "apiKey", name: "X-Api-Key" } },
});
const filled = {
  lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:acme-connector",
  cloudConnectorId: "c2c-abc123",
  secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-client-AbCdEf",
  secretVersionId: "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
  redirectUrl: "https://app.example.com/linked",
  clientId: "client-123",
};

/** Same keys, recursively, as the documentation's example (values differ). */
function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shapeOf);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

describe("registrationRequests for an OAuth bundle", () => {
  const req = registrationRequests(oauthBundle, filled);

  it("has the documented CreateCloudConnector shape and satisfies the Smithy model", () => {
    expect(shapeOf(req.createCloudConnector)).toEqual(shapeOf(fixture("create-cloud-connector.request.json")));
    expect(req.createCloudConnector.EndpointConfig.lambda.arn).toBe(filled.lambdaArn);
    expect(req.createCloudConnector.Name).toBe("Acme Cloud");
    expect(checkCloudConnector(req.createCloudConnector)).toEqual([]);
  });

  it("carries the mapping's OAuth endpoints, space-joined scopes, auth scheme and the secret reference", () => {
    const d = req.createConnectorDestination;
    expect(d.AuthType).toBe("OAUTH");
    expect(d.AuthConfig).toEqual({
      oAuth: {
        authUrl: "https://cloud.acme.example/oauth/authorize",
        tokenUrl: "https://cloud.acme.example/oauth/token",
        scope: "devices:read devices:write",
        tokenEndpointAuthenticationScheme: "REQUEST_BODY_CREDENTIALS",
        oAuthCompleteRedirectUrl: "https://app.example.com/linked",
        proactiveRefreshTokenRenewal: { enabled: true, DaysBeforeRenewal: 30 },
      },
    });
    expect(d.SecretsManager).toEqual({ arn: filled.secretArn, versionId: filled.secretVersionId });
    expect(d.CloudConnectorId).toBe("c2c-abc123");
    expect(shapeOf(d)).toEqual(shapeOf(fixture("create-connector-destination.request.oauth.json")));
    expect(checkDestination(d)).toEqual([]);
    expect(req.secretTemplate).toEqual({ clientId: "client-123", clientSecret: PLACEHOLDERS.clientSecret });
  });

  it("leaves scope and renewal out when the mapping declares none", () => {
    const bare = compiledBundle({
      oauth: { authorizationUrl: "https://a.example.com/auth", tokenUrl: "https://a.example.com/token", tokenEndpointAuthMethod: "HTTP_BASIC" },
    });
    const { oAuth } = registrationRequests(bare, filled).createConnectorDestination.AuthConfig as unknown as { oAuth: Record<string, unknown> };
    expect(Object.keys(oAuth).sort()).toEqual(["authUrl", "oAuthCompleteRedirectUrl", "tokenEndpointAuthenticationScheme", "tokenUrl"]);
  });

  it("is deterministic (idempotent ClientTokens) and the token changes with the target", () => {
    expect(registrationRequests(oauthBundle, filled)).toEqual(req);
    const other = registrationRequests(oauthBundle, { ...filled, lambdaArn: `${filled.lambdaArn}-2` });
    expect(other.createCloudConnector.ClientToken).not.toBe(req.createCloudConnector.ClientToken);
  });
});

describe("registrationRequests for a General Authorization bundle", () => {
  const req = registrationRequests(gaBundle, filled);

  it("lists the auth material with the secret and sends no AuthType nor top-level SecretsManager", () => {
    const d = req.createConnectorDestination;
    expect(d.AuthType).toBeUndefined();
    expect(d.SecretsManager).toBeUndefined();
    expect(d.AuthConfig).toEqual({
      GeneralAuthorization: [{ AuthMaterialName: "KeyCoApiKey", SecretsManager: { arn: filled.secretArn, versionId: filled.secretVersionId } }],
    });
    expect(checkDestination(d)).toEqual([]);
    expect(req.secretTemplate).toEqual({ apiKey: "<APIKEY>" });
  });

  it("matches the shape of the documentation's GeneralAuthorization example", () => {
    const doc = fixture("create-connector-destination.request.general-authorization.json");
    // The example sends AuthMaterials as a bare list; the model's AuthConfig.GeneralAuthorization is AuthMaterials too.
    expect(shapeOf(req.createConnectorDestination.AuthConfig)).toEqual(shapeOf({ GeneralAuthorization: doc.AuthConfig.GeneralAuthorization.AuthMaterials }));
  });

  it("makes vendor names with punctuation fit the model's Name and Description patterns", () => {
    expect(req.createCloudConnector.Name).toBe("Key Co API keys");
    expect(checkCloudConnector(req.createCloudConnector)).toEqual([]);
  });
});

describe("placeholders", () => {
  it("stand where an option is missing and are listed, and the checker rejects them", () => {
    const req = registrationRequests(oauthBundle);
    expect(req.createCloudConnector.EndpointConfig.lambda.arn).toBe(PLACEHOLDERS.lambdaArn);
    expect(placeholdersIn(req).sort()).toEqual([
      "$.createCloudConnector.EndpointConfig.lambda.arn: <LAMBDA_ARN>",
      "$.createConnectorDestination.CloudConnectorId: <CLOUD_CONNECTOR_ID>",
      "$.createConnectorDestination.SecretsManager.arn: <SECRET_ARN>",
      "$.createConnectorDestination.SecretsManager.versionId: <SECRET_VERSION_ID>",
      "$.secretTemplate.clientId: <CLIENT_ID>",
      "$.secretTemplate.clientSecret: <CLIENT_SECRET>",
    ]);
    expect(checkCloudConnector(req.createCloudConnector)).toContainEqual(expect.stringContaining("EndpointConfig.lambda.arn: does not match"));
    expect(req.createConnectorDestination.AuthConfig).not.toHaveProperty("oAuth.oAuthCompleteRedirectUrl");
  });

  it("a bundle without any auth cannot be registered", () => {
    expect(() => registrationRequests(compiledBundle())).toThrow(/neither oauth nor generalAuthorization/);
  });
});
