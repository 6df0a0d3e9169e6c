import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./helpers.ts";

let parent: string;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "c2c-cli-new-"));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe("c2c new", () => {
  it("scaffolds a bundle that validates and passes its fixtures at once", async () => {
    const made = await cli(["new", "acme", "--dir", parent]);
    expect(made.code).toBe(0);
    expect(made.stdout).toContain("connector.yaml");
    const dir = join(parent, "acme");
    const yaml = await readFile(join(dir, "connector.yaml"), "utf8");
    // The modeline points at the repository's schema, relative to the bundle.
    const schemaRef = /^# yaml-language-server: \$schema=(\S+)$/m.exec(yaml)?.[1];
    expect(schemaRef).toMatch(/schemas\/editor\/connector\.schema\.json$/);
    await expect(readFile(join(dir, schemaRef!), "utf8")).resolves.toContain('"$schema"');

    const validated = await cli(["validate", "--strict", dir]);
    expect(validated.stdout).toContain("valid");
    expect(validated.code).toBe(0);

    const tested = await cli(["test", dir]);
    expect(tested.stdout).toMatch(/✓ ActivateUser/);
    expect(tested.stdout).toMatch(/✓ DiscoverDevices/);
    expect(tested.stdout).toMatch(/3 passed, 0 failed/);
    expect(tested.stderr).toContain("running 3 fixtures");
    expect(tested.code).toBe(0);
  });

  it("--webhook adds a signed webhooks section and webhook fixtures that validate and pass at once", async () => {
    const made = await cli(["new", "acme-hooks", "--webhook", "--dir", parent]);
    expect(made.code).toBe(0);
    const dir = join(parent, "acme-hooks");
    const yaml = await readFile(join(dir, "connector.yaml"), "utf8");
    expect(yaml).toMatch(/^webhooks:\n  verify:\n(.*\n)*    scheme: hmac/m);
    expect(yaml).toContain("secret: { env: ACME_HOOKS_WEBHOOK_SECRET }");
    expect(made.stdout).toContain("tests/webhook-power-changed.yaml");
    const validated = await cli(["validate", "--strict", dir]);
    expect(validated.code).toBe(0);
    const tested = await cli(["test", dir]);
    expect(tested.stdout).toMatch(/✓ A signed power event becomes a DEVICE_EVENT/);
    expect(tested.stdout).toMatch(/✓ A delivery not signed with the webhook secret is refused \(401\)/);
    expect(tested.stdout).toMatch(/5 passed, 0 failed/);
    expect(tested.code).toBe(0);
    // Without the flag: no webhooks section, no webhook fixture.
    const plain = await cli(["new", "acme-plain", "--dir", parent]);
    expect(plain.code).toBe(0);
    expect(await readFile(join(parent, "acme-plain", "connector.yaml"), "utf8")).not.toContain("webhooks:");
  });

  it("scaffolds into mappings/ under the working folder by default", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "c2c-cli-cwd-"));
    try {
      expect((await cli(["new", "beta-cloud"], cwd)).code).toBe(0);
      const yaml = await readFile(join(cwd, "mappings", "beta-cloud", "connector.yaml"), "utf8");
      expect(yaml).toContain("id: beta-cloud");
      expect(yaml).toContain("name: Beta Cloud");
      expect((await cli(["validate"], cwd)).code).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("refuses to overwrite an existing folder, exit 1", async () => {
    const dir = join(parent, "acme");
    const before = await readFile(join(dir, "connector.yaml"), "utf8");
    const again = await cli(["new", "acme", "--dir", parent]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect(await readFile(join(dir, "connector.yaml"), "utf8")).toBe(before);
  });

  it("rejects a vendor id that cannot be a folder and artifact name", async () => {
    const r = await cli(["new", "Acme Corp", "--dir", parent]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lower-case letters");
  });
});

describe("c2c test", () => {
  it("shows a readable diff and exits 1 when a fixture fails; --filter selects fixtures", async () => {
    await cli(["new", "gamma", "--dir", parent]);
    const fixture = join(parent, "gamma", "tests", "activate-user.yaml");
    await writeFile(fixture, (await readFile(fixture, "utf8")).replace("userId: user-0001", "userId: someone-else"));

    const r = await cli(["test", join(parent, "gamma")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ ActivateUser answers the account's user id \(\d+ ms\)/);
    expect(r.stdout).toContain("ACK differs (- expected, + actual)");
    expect(r.stdout).toMatch(/\n\s+-\s+"userId": "someone-else"\n\s+\+\s+"userId": "user-0001"\n/);
    expect(r.stdout).toContain(join(parent, "gamma", "tests", "activate-user.yaml"));
    expect(r.stdout).toMatch(/2 passed, 1 failed/);

    const only = await cli(["test", join(parent, "gamma"), "--filter", "discover"]);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/1 passed, 0 failed/);
    expect(only.stderr).toContain("running 1 fixture ");
  });

  it("runs the LIFX fixtures", async () => {
    const r = await cli(["test", "lifx", "--filter", "smallest location"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ ActivateUser returns the smallest location id/);
    expect(r.stdout).toMatch(/1 passed, 0 failed/);
  });
});
