/**
 * The Lambda entry answers even when the container is misconfigured: an ACK with the reason,
 * never an exception.
 */
import { expect, it, vi } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { createLambdaHandler } from "../../engine/handler/create-handler.ts";
import { validateMiResponse } from "../../engine/validation/validators.ts";

it("answers a 500 ACK naming the missing setting when no region is configured", async () => {
  vi.stubEnv("AWS_REGION", "");
  vi.stubEnv("AWS_DEFAULT_REGION", "");
  vi.stubEnv("C2C_MI_ENDPOINT", "");
  const errors = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    const handler = createLambdaHandler(await loadBundleOrThrow("mappings/lifx"));
    const ack = (await handler({ header: { auth: { type: "OAuth2.0", token: "secret-token-123" } }, payload: {} })) as any;
    expect(validateMiResponse(ack)).toEqual({ ok: true });
    expect(ack.header.responseCode).toBe(500);
    expect(ack.payload.responseMessage).toMatch(/region/i);
    expect(JSON.stringify(errors.mock.calls)).not.toContain("secret-token-123");
  } finally {
    errors.mockRestore();
    vi.unstubAllEnvs();
  }
});
