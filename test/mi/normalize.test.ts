import { describe, expect, it } from "vitest";
import { InvalidEventError } from "../../engine/mi/event-errors.ts";
import { normalizeEvent, sanitizeMessage } from "../../engine/mi/event-normalize.ts";
import { RecordingEventSink } from "../../engine/mi/recording-sink.ts";
import type { MatterCluster, SendConnectorEventInput } from "../../engine/mi/send-connector-event.ts";

function deviceEvent(clusters: MatterCluster[], extra: Partial<SendConnectorEventInput> = {}): SendConnectorEventInput {
  return {
    ConnectorId: "conn-1",
    Operation: "DEVICE_EVENT",
    OperationVersion: "1.0",
    StatusCode: 200,
    UserId: "user-1",
    ConnectorDeviceId: "dev-1",
    MatterEndpoint: { id: "1", clusters },
    ...extra,
  };
}

const hex = (i: number) => `0x${i.toString(16).padStart(4, "0")}`;

describe("sanitizeMessage", () => {
  it("replaces runs of disallowed characters by one space, collapses and trims", () => {
    expect(sanitizeMessage("Error: device (lamp) said \"no\"!!")).toBe("Error device lamp said no");
    expect(sanitizeMessage("  a\t\tb\n\nc  ")).toBe("a b c");
    expect(sanitizeMessage("path/to/x: 50%")).toBe("path to x 50");
  });
  it("strips accents rather than dropping the letter", () => {
    expect(sanitizeMessage("Café déjà vu")).toBe("Cafe deja vu");
  });
  it("keeps allowed punctuation", () => {
    expect(sanitizeMessage("user@example.com, id_1-2.")).toBe("user@example.com, id_1-2.");
  });
  it("truncates to 256 characters", () => {
    expect(sanitizeMessage("a".repeat(300))).toHaveLength(256);
  });
});

describe("normalizeEvent", () => {
  it("returns a valid event unchanged and reports nothing", () => {
    const input = deviceEvent([{ id: "0x0006", attributes: { "0x0000": true } }], { Message: "ok" });
    const { events, problems } = normalizeEvent(input);
    expect(events).toEqual([input]);
    expect(problems).toEqual([]);
  });

  it("sanitises Message and does not modify the caller's object", () => {
    const input = deviceEvent([{ id: "0x0006" }], { Message: "Timeout: vendor API 'down'" });
    const { events, problems } = normalizeEvent(input);
    expect(events[0].Message).toBe("Timeout vendor API down");
    expect(input.Message).toBe("Timeout: vendor API 'down'");
    expect(problems).toEqual([expect.stringMatching(/^Message: disallowed characters replaced/)]);
    expect(problems.join(" ")).not.toContain("vendor");
  });

  it("omits a null Message and one that sanitises to nothing", () => {
    const withNull = normalizeEvent(deviceEvent([{ id: "0x0006" }], { Message: null as unknown as string }));
    expect(withNull.events[0]).not.toHaveProperty("Message");
    const onlySymbols = normalizeEvent(deviceEvent([{ id: "0x0006" }], { Message: "!!! ??? :::" }));
    expect(onlySymbols.events[0]).not.toHaveProperty("Message");
    expect(onlySymbols.problems[0]).toMatch(/omitted/);
  });

  it("splits 7 clusters over two events of 5 and 2, other members identical", () => {
    const clusters = Array.from({ length: 7 }, (_, i) => ({ id: hex(i), attributes: { "0x0000": i } }));
    const { events, problems } = normalizeEvent(deviceEvent(clusters));
    expect(events.map((e) => e.MatterEndpoint!.clusters!.length)).toEqual([5, 2]);
    expect(events.flatMap((e) => e.MatterEndpoint!.clusters!)).toEqual(clusters);
    for (const e of events) {
      const { MatterEndpoint, ...rest } = e;
      const { MatterEndpoint: _m, ...original } = deviceEvent(clusters);
      expect(rest).toEqual(original);
      expect(MatterEndpoint!.id).toBe("1");
    }
    expect(problems).toEqual([expect.stringContaining("7 clusters split over 2 events")]);
  });

  it("splits a cluster with 7 commands into disjoint parts, attributes with the first part only", () => {
    const commands = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`0x0${i}`, { arg: i }]));
    const cluster = { id: "0x0008", attributes: { "0x0000": 42 }, commands };
    const { events } = normalizeEvent(deviceEvent([cluster, { id: "0x0006", attributes: { "0x0000": true } }], { Operation: "DEVICE_COMMAND_RESPONSE", TraceId: "t-1" }));
    expect(events).toHaveLength(2);
    const [first, second] = events.map((e) => e.MatterEndpoint!.clusters!);
    expect(first).toEqual([
      { id: "0x0008", attributes: { "0x0000": 42 }, commands: Object.fromEntries(Object.entries(commands).slice(0, 5)) },
      { id: "0x0006", attributes: { "0x0000": true } },
    ]);
    expect(second).toEqual([{ id: "0x0008", commands: Object.fromEntries(Object.entries(commands).slice(5)) }]);
    expect(events.every((e) => e.TraceId === "t-1" && e.Operation === "DEVICE_COMMAND_RESPONSE")).toBe(true);
  });

  it("splits events maps the same way and drops empty command maps", () => {
    const events6 = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [String(i), {}]));
    const { events, problems } = normalizeEvent(deviceEvent([{ id: "0x0045", events: events6, commands: {} }]));
    expect(events.map((e) => e.MatterEndpoint!.clusters)).toEqual([
      [{ id: "0x0045", events: Object.fromEntries(Object.entries(events6).slice(0, 5)) }],
      [{ id: "0x0045", events: { "5": {} } }],
    ]);
    expect(problems).toContainEqual(expect.stringContaining("commands: empty map omitted"));
  });

  it("throws InvalidEventError for what it cannot fix, with paths", () => {
    const bad = deviceEvent([{ id: "0x0006" }], { StatusCode: 99 });
    let caught: unknown;
    try {
      normalizeEvent(bad);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidEventError);
    expect((caught as InvalidEventError).issues).toEqual([expect.objectContaining({ path: "$.StatusCode", keyword: "minimum" })]);
  });

  it("reports an invalid part of a split event, and an invalid ConnectorId label", () => {
    const clusters = Array.from({ length: 6 }, (_, i) => ({ id: i === 5 ? "not-hex" : hex(i) }));
    expect(() => normalizeEvent(deviceEvent(clusters))).toThrow(/part 2 of 2/);
    expect(() => normalizeEvent(deviceEvent([{ id: "0x0006" }], { ConnectorId: "bad/id" }))).toThrow(InvalidEventError);
  });

  it("does not hide a non-map commands member when splitting on events", () => {
    const events6 = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [String(i), {}]));
    const cluster = { id: "0x0045", events: events6, commands: ["0x00"] as unknown as Record<string, unknown> };
    expect(() => normalizeEvent(deviceEvent([cluster]))).toThrow(/clusters\[0\]\.commands \(part 1 of 2\) must be object/);
  });
});

describe("normalizeEvent checks an event once", () => {
  it("hands back a part it produced as it is", () => {
    const { events } = normalizeEvent(deviceEvent([{ id: "0x0006", attributes: { "0x0000": true } }], { Message: "é ok" }));
    const part = events[0]!;
    const again = normalizeEvent(part);
    expect(again.events).toHaveLength(1);
    expect(again.events[0]).toBe(part);
    expect(again.problems).toEqual([]);
  });

  it("does not run the schema check again for a part it produced (the publisher's parts reach the client so)", () => {
    const { events } = normalizeEvent(deviceEvent([{ id: "0x0006", attributes: { "0x0000": true } }]));
    const part = events[0]!;
    // Changing a produced part breaks the contract (nothing does); it shows the second call trusts the first.
    (part as unknown as Record<string, unknown>).StatusCode = "changed afterwards";
    expect(() => normalizeEvent(part)).not.toThrow();
  });

  it("checks a copy or anything it did not produce", () => {
    const { events } = normalizeEvent(deviceEvent([{ id: "0x0006", attributes: { "0x0000": true } }]));
    const copy = { ...events[0]!, StatusCode: "not a number" as unknown as number };
    expect(() => normalizeEvent(copy)).toThrow(InvalidEventError);
    // Rebuilt from JSON (an outbox part read back from the store): validated again.
    const rebuilt = JSON.parse(JSON.stringify(events[0]));
    expect(normalizeEvent(rebuilt).events[0]).not.toBe(rebuilt);
  });
});

describe("RecordingEventSink", () => {
  it("records normalized bodies without the ConnectorId label and refuses invalid events", async () => {
    const sink = new RecordingEventSink();
    const clusters = Array.from({ length: 6 }, (_, i) => ({ id: hex(i) }));
    await expect(sink.send(deviceEvent(clusters, { Message: "a: b" }))).resolves.toEqual({ ConnectorId: "conn-1" });
    expect(sink.events).toHaveLength(2);
    expect(sink.events.every((e) => e.connectorId === "conn-1" && !("ConnectorId" in e.body))).toBe(true);
    expect(sink.bodies("DEVICE_EVENT")[0].Message).toBe("a b");
    await expect(sink.send(deviceEvent([], {}))).rejects.toBeInstanceOf(InvalidEventError);
    expect(sink.events).toHaveLength(2);
  });
});
