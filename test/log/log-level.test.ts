/**
 * C2C_LOG_LEVEL alone decides what the production logger (Powertools) writes: the template's
 * LogLevel parameter sets only that variable, so Powertools' own default (INFO) must not drop
 * debug lines behind its back.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { logLevelFrom } from "../../engine/log/json-logger.ts";
import { RecordingEventSink } from "../../engine/mi/recording-sink.ts";

afterEach(() => vi.restoreAllMocks());

async function linesWritten(env: NodeJS.ProcessEnv, write: (e: ReturnType<typeof createEngine>) => void): Promise<string[]> {
  const saved = { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL, LOG_LEVEL: process.env.LOG_LEVEL, POWERTOOLS_DEV: process.env.POWERTOOLS_DEV };
  delete process.env.POWERTOOLS_LOG_LEVEL;
  delete process.env.LOG_LEVEL;
  delete process.env.POWERTOOLS_DEV;
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const engine = createEngine(await loadBundleOrThrow("mappings/lifx"), { sink: new RecordingEventSink() }, env);
    write(engine);
  } finally {
    spy.mockRestore();
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
  return lines;
}

describe("C2C_LOG_LEVEL", () => {
  it("debug alone makes debug lines appear", async () => {
    const lines = await linesWritten({ C2C_LOG_LEVEL: "debug", AWS_REGION: "us-east-1" }, (e) => e.deps.logger.debug("a debug line", { n: 1 }));
    const record = lines.map((l) => JSON.parse(l)).find((r) => r.message === "a debug line");
    expect(record).toMatchObject({ level: "DEBUG", n: 1 });
  });

  it("info (the default) keeps debug lines out, and unknown values fall back to info", async () => {
    const lines = await linesWritten({ AWS_REGION: "us-east-1" }, (e) => {
      e.deps.logger.debug("hidden");
      e.deps.logger.info("shown");
    });
    expect(lines.join("")).not.toContain("hidden");
    expect(lines.join("")).toContain("shown");
    expect(logLevelFrom("DEBUG")).toBe("debug");
    expect(logLevelFrom("verbose")).toBe("info");
  });
});
