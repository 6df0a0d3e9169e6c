import { afterEach, describe, expect, it } from "vitest";
import { SendConnectorEventClient } from "../../engine/mi/client.ts";
import { connectorEventPath, EndpointConfigError, endpointOptionsFromEnv, resolveEventEndpoint } from "../../engine/mi/endpoint.ts";

describe("resolveEventEndpoint", () => {
  it("uses the dual-stack regional host", () => {
    const r = resolveEventEndpoint({ region: "eu-west-1" });
    expect(r.url.toString()).toBe("https://api.iotmanagedintegrations.eu-west-1.api.aws/");
    expect(r.signingRegion).toBe("eu-west-1");
  });
  it("uses the FIPS host when asked", () => {
    expect(resolveEventEndpoint({ region: "us-gov-west-1", useFips: true }).url.host).toBe("api.iotmanagedintegrations-fips.us-gov-west-1.api.aws");
  });
  it("uses the China partition suffix for cn- regions", () => {
    expect(resolveEventEndpoint({ region: "cn-north-1" }).url.host).toBe("api.iotmanagedintegrations.cn-north-1.api.amazonwebservices.com.cn");
    expect(resolveEventEndpoint({ region: "cn-northwest-1", useFips: true }).url.host).toBe("api.iotmanagedintegrations-fips.cn-northwest-1.api.amazonwebservices.com.cn");
  });
  it("takes a custom endpoint as is, signing for the configured region", () => {
    const r = resolveEventEndpoint({ region: "ca-central-1", endpoint: "https://vpce-123.api.iotmanagedintegrations.ca-central-1.vpce.amazonaws.com" });
    expect(r.url.host).toBe("vpce-123.api.iotmanagedintegrations.ca-central-1.vpce.amazonaws.com");
    expect(r.signingRegion).toBe("ca-central-1");
  });
  it("refuses a custom endpoint with FIPS, a missing region, and bad values", () => {
    expect(() => resolveEventEndpoint({ region: "us-east-1", endpoint: "http://127.0.0.1:1", useFips: true })).toThrow(/FIPS and custom endpoint are not supported/);
    expect(() => resolveEventEndpoint({})).toThrow(EndpointConfigError);
    expect(() => resolveEventEndpoint({})).toThrow(/Missing Region/);
    expect(() => resolveEventEndpoint({ region: "us-east-1.evil.com/" })).toThrow(/not a region name/);
    expect(() => resolveEventEndpoint({ region: "us-east-1", endpoint: "not a url" })).toThrow(/not a URL/);
    expect(() => resolveEventEndpoint({ region: "us-east-1", endpoint: "ftp://x" })).toThrow(/http\(s\)/);
  });
});

describe("endpointOptionsFromEnv", () => {
  it("prefers explicit options, then AWS_REGION over AWS_DEFAULT_REGION, C2C_MI_ENDPOINT, AWS_USE_FIPS_ENDPOINT", () => {
    const env = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-west-2", C2C_MI_ENDPOINT: "http://127.0.0.1:9", AWS_USE_FIPS_ENDPOINT: "true" };
    expect(endpointOptionsFromEnv({}, env)).toEqual({ region: "eu-west-1", endpoint: "http://127.0.0.1:9", useFips: true });
    expect(endpointOptionsFromEnv({ region: "ap-south-1", useFips: false }, env)).toMatchObject({ region: "ap-south-1", useFips: false });
    expect(endpointOptionsFromEnv({}, { AWS_DEFAULT_REGION: "us-west-2" })).toEqual({ region: "us-west-2", endpoint: undefined, useFips: false });
  });
});

describe("connectorEventPath", () => {
  it("URL-encodes the label, including RFC 3986 reserved characters, below the base path", () => {
    expect(connectorEventPath(new URL("https://h"), "abc-_1")).toBe("/connector-event/abc-_1");
    expect(connectorEventPath(new URL("http://h:1/prefix/"), "a b/c(1)*")).toBe("/prefix/connector-event/a%20b%2Fc%281%29%2A");
  });
});

describe("SendConnectorEventClient configuration from the environment", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ["AWS_REGION", "AWS_DEFAULT_REGION", "C2C_MI_ENDPOINT", "AWS_USE_FIPS_ENDPOINT"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  const credentials = async () => ({ accessKeyId: "a", secretAccessKey: "s" });

  it("throws a clear error without a region", () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    expect(() => new SendConnectorEventClient({ credentials })).toThrow(/Missing Region/);
  });
  it("reads region, FIPS and endpoint from the environment", () => {
    process.env.AWS_REGION = "eu-west-1";
    process.env.AWS_USE_FIPS_ENDPOINT = "true";
    delete process.env.C2C_MI_ENDPOINT;
    expect(new SendConnectorEventClient({ credentials }).endpointUrl).toBe("https://api.iotmanagedintegrations-fips.eu-west-1.api.aws/");
    process.env.C2C_MI_ENDPOINT = "http://127.0.0.1:4010";
    expect(() => new SendConnectorEventClient({ credentials })).toThrow(/FIPS and custom endpoint/);
    delete process.env.AWS_USE_FIPS_ENDPOINT;
    expect(new SendConnectorEventClient({ credentials }).endpointUrl).toBe("http://127.0.0.1:4010/");
  });
});
