/**
 * webhooks.verify is checked when the bundle is validated: `none` on a bundle that gets a public
 * function URL is an error unless it says `insecure: true` and why (then a warning, which the
 * build prints); httpSignature and jwt name what they lack, at file:line:col.
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic, validateMappingText, type Diagnostic } from "../../engine/mapping/index.ts";

const FILE = "mem/connector.yaml";

function doc(verify: string): string {
  return `apiVersion: c2c.mapping/v1
vendor:
  id: mem
  name: Memory
api:
  baseUrl: https://api.example.test
operations:
  activateUser:
    userId: "'u1'"
  discoverDevices:
    list:
      method: GET
      path: /devices
    devices: devices
    userId: "'u1'"
    device:
      id: id
profiles:
  plug:
    match: "true"
    endpoints:
      - id: "1"
        deviceTypes: ["On/Off Plug-in Unit"]
        clusters:
          OnOff:
            attributes:
              OnOff: on
webhooks:
  verify:
${verify}
  events: "$"
  deviceId: device_id
  state: state
`;
}

const diagnostics = (verify: string): Diagnostic[] => validateMappingText(doc(verify), FILE).diagnostics;
const rules = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.rule}`);

describe("webhooks.verify checks", () => {
  it("refuses scheme none without insecure and a reason, naming the line", () => {
    const ds = diagnostics("    scheme: none");
    const d = ds.find((x) => x.rule === "webhooks/unauthenticated");
    expect(d, ds.map(formatDiagnostic).join("\n")).toBeDefined();
    expect(d!.severity).toBe("error");
    expect(d!.line).toBe(doc("    scheme: none").split("\n").findIndex((l) => l.includes("scheme: none")) + 1);
    expect(rules(diagnostics("    scheme: none\n    insecure: true"))).toContain("error webhooks/unauthenticated");
  });

  it("accepts scheme none with insecure: true and a reason, as a warning", () => {
    const ds = diagnostics("    scheme: none\n    insecure: true\n    reason: deliveries carry only ids that are re-read from the vendor");
    expect(ds.filter((d) => d.severity === "error")).toEqual([]);
    expect(rules(ds)).toContain("warning webhooks/insecure");
  });

  it("names what httpSignature and jwt lack", () => {
    expect(rules(diagnostics("    scheme: httpSignature\n    algorithms: [rsa-sha256]"))).toContain("error webhooks/verify-options");
    expect(diagnostics("    scheme: httpSignature\n    algorithms: [RS256]\n    keyUrl: { allowedHosts: [keys.example.com] }").map((d) => d.message).join("\n")).toContain("RS256 is not an HTTP message signature algorithm");
    const jwt = diagnostics("    scheme: jwt\n    jwksUrl: https://keys.example.com/certs\n    issuer: https://issuer.example.com\n    algorithms: [RS256]");
    expect(jwt.map((d) => d.message).join("\n")).toContain("jwt needs `audience` or `audienceEnv`");
    const ok = diagnostics("    scheme: jwt\n    jwksUrl: https://keys.example.com/certs\n    issuer: https://issuer.example.com\n    audienceEnv: PUSH_AUDIENCE\n    algorithms: [RS256]");
    expect(ok.filter((d) => d.severity === "error")).toEqual([]);
  });
});
