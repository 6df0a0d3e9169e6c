/**
 * The LIFX sample bundle's requests and vendor answers, as the engine suites use them: one light
 * (d073d5141876, from the bundle's own test data), an On command, a discovery, and the vendor's
 * read, set-state and list exchanges for the vendor simulator.
 */
import { readFileSync } from "node:fs";
import { FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";

export const LIFX_LIGHTS: Array<Record<string, unknown>> = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
export const LIFX_LIGHT_ID = "d073d5141876";
export const LIFX_CONNECTOR_ID = "lifx-connector";

export const lifxAuth = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };

/** An MI request without operation-specific fields (ActivateUser, DeactivateUser). */
export const lifxRequest = (operationName: string) => ({ header: lifxAuth, payload: { operationName, operationVersion: "1.0", connectorId: LIFX_CONNECTOR_ID } });

/** SendCommand to the light: On (OnOff 0x01) unless other clusters are given. */
export const lifxCommand = (traceId: string, clusters: object[] = [{ id: "0x0006", commands: [{ "0x01": {} }] }]) => ({
  header: lifxAuth,
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: LIFX_CONNECTOR_ID,
    connectorDeviceId: LIFX_LIGHT_ID,
    traceId,
    endpoints: [{ id: "1", clusters }],
  },
});

export const lifxDiscovery = (deviceDiscoveryId: string) => ({
  header: lifxAuth,
  payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: LIFX_CONNECTOR_ID, deviceDiscoveryId },
});

/** LIFX's multi-status answer to a state change of the light. */
export const PUT_STATE_OK: Exchange["response"] = { status: 207, body: { results: [{ id: LIFX_LIGHT_ID, status: "ok" }] } };

export const getLight = (response: Exchange["response"] = { status: 200, body: [LIFX_LIGHTS[0]] }): Exchange => ({ request: { method: "GET", path: `/v1/lights/id:${LIFX_LIGHT_ID}` }, response });
export const putState = (response: Exchange["response"] = PUT_STATE_OK): Exchange => ({ request: { method: "PUT", path: `/v1/lights/id:${LIFX_LIGHT_ID}/state` }, response });
export const listLights = (response: Exchange["response"] = { status: 200, body: LIFX_LIGHTS }): Exchange => ({ request: { method: "GET", path: "/v1/lights/all" }, response });
