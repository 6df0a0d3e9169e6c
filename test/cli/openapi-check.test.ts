import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseYaml } from "../../engine/mapping/load.ts";
import { checkCallsAgainstOpenApi } from "../../engine/mapping/openapi-check.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "c2c-openapi-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mapping = (extra = "") => `apiVersion: c2c.mapping/v1
api:
  baseUrl: https://api.example.test/v2
  openapi: spec.json
calls:
  list:
    method: GET
    path: /things
  other:
    method: GET
    baseUrl: https://auth.example.test
    path: /userinfo
${extra}`;

async function check(spec: unknown, yaml = mapping()) {
  await writeFile(join(dir, "spec.json"), JSON.stringify(spec));
  return checkCallsAgainstOpenApi(parseYaml(yaml, "connector.yaml"), dir);
}

describe("checkCallsAgainstOpenApi", () => {
  it("matches paths written with the base path when the document has no servers, and skips other hosts", async () => {
    expect(await check({ openapi: "3.0.0", paths: { "/v2/things": { get: {} } } })).toEqual([]);
  });

  it("reads Swagger 2 basePath", async () => {
    expect(await check({ swagger: "2.0", basePath: "/v2", paths: { "/things": { get: {} } } })).toEqual([]);
  });

  it("suggests the closest documented path", async () => {
    const d = await check({ openapi: "3.0.0", servers: [{ url: "https://api.example.test/v2" }], paths: { "/thing": { get: {} }, "/users": { get: {} } } });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ rule: "openapi/unknown-path", line: 8, severity: "error", hint: 'did you mean "/thing"?' });
  });

  it("checks call sites that write their own path, once per declaration", async () => {
    const yaml = mapping(`operations:
  activateUser:
    requests:
      - use: list
      - method: DELETE
        path: /things
`);
    const d = await check({ openapi: "3.0.0", servers: [{ url: "/v2" }], paths: { "/things": { get: {} } } }, yaml);
    expect(d.map((x) => `${x.rule}@${x.line}`)).toEqual(["openapi/unknown-method@17"]);
  });

  it("reports a document that is not OpenAPI", async () => {
    const d = await check({ hello: "world" });
    expect(d[0]).toMatchObject({ rule: "openapi/unreadable", line: 4 });
  });
});
