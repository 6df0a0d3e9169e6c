/**
 * Outbound side: the SendConnectorEvent API (c2c-protocol.md §8).
 *
 * `SendConnectorEventInput` has the shape of `SendConnectorEventCommandInput` of the official
 * `@aws-sdk/client-iot-managed-integrations` client, so that client can replace ours by changing
 * the one module that implements `EventSink` (engine/mi/client.ts).
 */

export type ConnectorEventOperation =
  | "DEVICE_COMMAND_RESPONSE"
  | "DEVICE_DISCOVERY"
  | "DEVICE_EVENT"
  | "DEVICE_COMMAND_REQUEST";

export interface MatterCapabilityReportAttribute {
  id?: string;
  name?: string;
  value?: unknown;
}

export interface MatterCapabilityReportCluster {
  id: string;
  revision: number;
  publicId?: string;
  name?: string;
  specVersion?: string;
  attributes?: MatterCapabilityReportAttribute[];
  commands?: string[];
  events?: string[];
  featureMap?: number;
  generatedCommands?: string[];
  fabricIndex?: number;
}

export interface MatterCapabilityReportEndpoint {
  id: string;
  deviceTypes: string[];
  clusters: MatterCapabilityReportCluster[];
  parts?: string[];
  semanticTags?: string[];
  clientClusters?: string[];
}

export interface MatterCapabilityReport {
  version: string;
  nodeId?: string;
  endpoints: MatterCapabilityReportEndpoint[];
}

export interface CapabilitySchemaItem {
  Format: "AWS" | "ZCL" | "CONNECTOR";
  CapabilityId: string;
  ExtrinsicId: string;
  ExtrinsicVersion: number;
  Schema: unknown;
}

export interface Device {
  ConnectorDeviceId: string;
  ConnectorDeviceName?: string;
  CapabilityReport: MatterCapabilityReport;
  CapabilitySchemas?: CapabilitySchemaItem[];
  DeviceMetadata?: unknown;
}

export interface MatterCluster {
  id?: string;
  attributes?: unknown;
  commands?: Record<string, unknown>;
  events?: Record<string, unknown>;
}

export interface MatterEndpoint {
  id?: string;
  clusters?: MatterCluster[];
}

export interface SendConnectorEventInput {
  /** Path label: goes in the URL, never in the body. */
  ConnectorId: string;
  Operation: ConnectorEventOperation;
  UserId?: string;
  OperationVersion?: string;
  StatusCode?: number;
  Message?: string;
  DeviceDiscoveryId?: string;
  ConnectorDeviceId?: string;
  TraceId?: string;
  Devices?: Device[];
  MatterEndpoint?: MatterEndpoint;
}

export interface SendConnectorEventOutput {
  ConnectorId: string;
}

/** Where every event the engine produces leaves. Implementations: signed HTTP client, recorder. */
export interface EventSink {
  send(input: SendConnectorEventInput, options?: { signal?: AbortSignal }): Promise<SendConnectorEventOutput>;
}

/** Body of the HTTP request: every member except the path label. */
export function eventBody(input: SendConnectorEventInput): Omit<SendConnectorEventInput, "ConnectorId"> {
  const { ConnectorId: _ignored, ...body } = input;
  return body;
}
