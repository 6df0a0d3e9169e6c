/**
 * `c2c test --update` on fixtures with deferred-work steps: a poll tick's answer goes to the step's
 * `expect.round` (never an `ack` the step has no use for), a replayed delivery's to `expect.http`,
 * and a wait step (no answer) is left as it is.
 */
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { patchDocument } from "../../engine/testing/fixture-update.ts";
import type { FixtureResult } from "../../engine/testing/fixture-runner.ts";

const FIXTURE = `name: poll
deliveries:
  - webhook: { body: { a: 1 } }
    expect: { http: { status: 200 } }
  - replay: 1
    expect: { http: { status: 200 } }
  - wait: { seconds: 300 }
  - poll: {}
    expect:
      round: { users: 7 }
vendor: []
expect:
  events: []
`;

describe("--update with poll, wait and replay steps", () => {
  it("writes the round of a tick, the HTTP answer of a replay, and nothing for a wait", () => {
    const doc = parseDocument(FIXTURE);
    const result = {
      answers: [{ statusCode: 200, body: "{}" }, { statusCode: 401, body: "refused" }, undefined, { status: "ok", users: 1 }],
      events: [],
      vendorRequests: [],
      vendorProblems: [],
      failures: [],
      fixture: { vendor: [] },
    } as unknown as FixtureResult;
    patchDocument(doc, result, []);
    const out = doc.toJS() as any;
    expect(out.deliveries[3].expect).toEqual({ round: { users: 1 } });
    expect(out.deliveries[1].expect.http.status).toBe(401);
    expect(out.deliveries[2]).toEqual({ wait: { seconds: 300 } });
  });
});
