/**
 * The bounded-size soak (the 200,000-invocation run is `npm run bench:soak`, figures in the README):
 * a warm engine serving a new token on every invocation keeps its redactor's secret set and its
 * state bounded, and still masks the current invocation's token.
 */
import { describe, expect, it } from "vitest";
import { runSoak } from "../../bench/soak.ts";
import { DEFAULT_MAX_SECRETS, REDACTED, SecretRegistry } from "../../engine/log/redact.ts";

describe("soak (bounded size)", () => {
  it("300 invocations with distinct tokens: every ACK 200, the secret set stays at its bound", async () => {
    const result = await runSoak(300, 150);
    expect(result.allOk).toBe(true);
    expect(result.secretsHeld).toBe(DEFAULT_MAX_SECRETS);
    expect(result.windows).toHaveLength(2);
  }, 60_000);

  it("the redactor keeps the most recently used secrets: a value in use is always masked", () => {
    const registry = new SecretRegistry(3);
    registry.add("token-old-1");
    registry.add("webhook-secret");
    registry.add("token-2");
    registry.add("webhook-secret"); // used again: now the most recent
    registry.add("token-3");
    registry.add("token-4");
    expect(registry.size).toBe(3);
    expect(registry.scrub("token-old-1 token-2 webhook-secret token-3 token-4")).toBe(`token-old-1 token-2 ${REDACTED} ${REDACTED} ${REDACTED}`);
  });
});
