/**
 * Fixture files (mappings/<vendor>/tests/*.yaml, schemas/fixture.schema.json): an MI request,
 * the vendor exchanges it should cause, and the expected ACK and SendConnectorEvent bodies.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { parse } from "yaml";
import type { Exchange } from "./vendor-simulator.ts";

export interface Fixture {
  file: string;
  name: string;
  description?: string;
  request: Record<string, unknown>;
  auth?: { token?: string; secret?: Record<string, unknown> };
  settings?: Record<string, unknown>;
  vendor: Exchange[];
  expect: { ack: Record<string, unknown>; events?: Array<Record<string, unknown>>; vendorRequests?: "exact" | "subset" };
}

async function readData(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  return file.endsWith(".json") ? JSON.parse(text) : parse(text);
}

/** Loads every fixture of a bundle, resolving `file:` references relative to each fixture. */
export async function loadFixtures(bundleDir: string): Promise<Fixture[]> {
  const dir = join(bundleDir, "tests");
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".yaml") || n.endsWith(".yml")).sort();
  } catch {
    return [];
  }
  const out: Fixture[] = [];
  for (const n of names) out.push(await loadFixture(join(dir, n)));
  return out;
}

export async function loadFixture(file: string): Promise<Fixture> {
  const raw = (await readData(file)) as Record<string, any>;
  const base = dirname(file);
  const request = raw.request && typeof raw.request.file === "string" && Object.keys(raw.request).length === 1
    ? ((await readData(join(base, raw.request.file))) as Record<string, unknown>)
    : raw.request;
  const vendor: Exchange[] = [];
  for (const ex of raw.vendor ?? []) {
    const response = { ...ex.response };
    if (typeof response.bodyFile === "string") {
      response.body = await readData(join(base, response.bodyFile));
      delete response.bodyFile;
    }
    vendor.push({ request: ex.request, response });
  }
  return {
    file: relative(process.cwd(), file),
    name: raw.name,
    description: raw.description,
    request,
    auth: raw.auth,
    settings: raw.settings,
    vendor,
    expect: raw.expect,
  };
}
