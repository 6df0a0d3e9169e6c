import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../engine/cli/main.ts";
import { colorsFor } from "../../engine/cli/io.ts";
import { REPO } from "./helpers.ts";

const ESC = "\x1b[";

describe("colour", () => {
  it("only on a terminal and only without NO_COLOR", () => {
    expect(colorsFor({ write: () => true, isTTY: true }, {}).red("x")).toContain(ESC);
    expect(colorsFor({ write: () => true, isTTY: true }, { NO_COLOR: "1" }).red("x")).toBe("x");
    expect(colorsFor({ write: () => true }, {}).red("x")).toBe("x");
  });

  it("reaches the output of a command on a TTY", async () => {
    let tty = "";
    await runCli(["validate", "lifx"], { stdout: { write: (s: string) => (tty += s), isTTY: true }, stderr: { write: () => true }, cwd: REPO, env: {} });
    expect(tty).toContain(ESC);
  });
});

describe("help", () => {
  it("every command has --help with examples, exit 0", async () => {
    for (const cmd of ["validate", "test", "new", "invoke", "dev", "docs", "registration", "deploy"]) {
      let out = "";
      const code = await runCli([cmd, "--help"], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, cwd: REPO, env: {} });
      expect(code, cmd).toBe(0);
      expect(out, cmd).toContain("Examples:");
      expect(out, cmd).toContain(`c2c ${cmd}`);
    }
  });
});

describe("mapping schema", () => {
  it("gives every property a description and an example, so editors explain and complete it", () => {
    const schema = JSON.parse(readFileSync(join(REPO, "schemas", "mapping.schema.json"), "utf8"));
    const missing: string[] = [];
    // A property that is only a $ref is explained by what it refers to (editors show that text).
    const target = (v: Record<string, any>): Record<string, any> => {
      if (typeof v.$ref !== "string") return v;
      let node: any = schema;
      for (const seg of v.$ref.slice(2).split("/")) node = node?.[seg];
      return { ...(node ?? {}), ...v };
    };
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, any>;
      for (const [k, own] of Object.entries<any>(n.properties ?? {})) {
        const v = target(own);
        const p = `${at}/properties/${k}`;
        if (!v.description) missing.push(`${p} (description)`);
        if (v.examples === undefined && v.const === undefined && v.enum === undefined && v.default === undefined) missing.push(`${p} (examples)`);
        walk(own, p);
      }
      for (const key of ["definitions", "$defs", "patternProperties"]) for (const [k, v] of Object.entries(n[key] ?? {})) walk(v, `${at}/${key}/${k}`);
      for (const key of ["items", "additionalProperties"]) if (n[key] && typeof n[key] === "object") walk(n[key], `${at}/${key}`);
      for (const key of ["oneOf", "anyOf", "allOf"]) (n[key] ?? []).forEach((v: unknown, i: number) => walk(v, `${at}/${key}/${i}`));
    };
    walk(schema, "");
    expect(missing).toEqual([]);
  });
});
