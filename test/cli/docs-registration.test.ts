import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { cli, FIXTURES } from "./helpers.ts";

describe("c2c docs", () => {
  it("prints a Markdown capability matrix of the LIFX bundle", async () => {
    const r = await cli(["docs", "lifx"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# LIFX \(`lifx`\): capability matrix/);
    for (const cluster of ["OnOff (0x0006)", "LevelControl (0x0008)", "ColorControl (0x0300)"]) expect(r.stdout).toContain(cluster);
    expect(r.stdout).toContain("| color | 1 | Extended Color Light |");
    expect(r.stdout).toContain("| white | 1 | Dimmable Light | OnOff (0x0006), LevelControl (0x0008) |");
    // Attributes: read expression, writable, constant.
    // OnOff is read-only in Matter: LIFX maps no write for it (Off/On/Toggle switch it).
    expect(r.stdout).toContain("| OnOff | 0x0000 | bool | `power = 'on'` |  |");
    expect(r.stdout).toContain("| MinLevel | 0x0002 | uint8 | constant `1` |  |");
    // Commands with their vendor call, and the MI built-ins.
    expect(r.stdout).toContain("| Toggle | 0x02 | `POST /lights/{selector}/toggle` | OnOff |");
    expect(r.stdout).not.toContain("writes OnOff");
    expect(r.stdout).toContain("| ReadState (MI) | 0xFF02 | `GET /lights/{selector}` | |");
  });

  it("refuses a bundle that does not validate, exit 1", async () => {
    const r = await cli(["docs", join(FIXTURES, "broken")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("matter/unknown-attribute");
    expect(r.stdout).toBe("");
  });
});

describe("c2c registration", () => {
  it("prints the registration bodies as JSON, with the given Lambda ARN", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:lifx-connector";
    const r = await cli(["registration", "lifx", "--lambda-arn", arn]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.CreateCloudConnector).toMatchObject({ Name: "LIFX", EndpointType: "LAMBDA", EndpointConfig: { lambda: { arn } } });
    expect(body.CreateConnectorDestination).toMatchObject({
      AuthType: "OAUTH",
      AuthConfig: { oAuth: { authUrl: "https://cloud.lifx.com/oauth/authorize", tokenUrl: "https://cloud.lifx.com/oauth/token", scope: "remote_control:all" } },
    });
    // What is still missing is listed on stderr, not mixed into the JSON.
    expect(r.stderr).toContain("<CLOUD_CONNECTOR_ID>");
    expect(r.stderr).not.toContain("<LAMBDA_ARN>");
  });
});
