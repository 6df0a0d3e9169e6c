/**
 * Inbound side of the C2C protocol: what managed integrations (MI) sends to the connector Lambda
 * and the synchronous ACK the connector returns. Shapes follow shared/spec/c2c-protocol.md §2–§6.
 * The runtime check of these shapes is schemas/mi-request.schema.json; these types mirror it.
 */

export type OperationName = "AWS.ActivateUser" | "AWS.DiscoverDevices" | "AWS.SendCommand" | "AWS.DeactivateUser";

export const OPERATION_NAMES: readonly OperationName[] = [
  "AWS.ActivateUser",
  "AWS.DiscoverDevices",
  "AWS.SendCommand",
  "AWS.DeactivateUser",
];

export type AuthHeader =
  | { type: "OAuth2.0"; token: string }
  | { type: "GeneralAuthorization"; secretsManager: { arn: string; versionId: string } };

export interface InboundCommandMap {
  /** commandId (hex or decimal string) -> fields by field id (or attribute id for UpdateState/ReadState) */
  [commandId: string]: Record<string, unknown>;
}

export interface InboundCluster {
  id: string;
  /** Documented as an array of single-key objects; a plain map is accepted too. */
  commands?: InboundCommandMap[] | InboundCommandMap;
  attributes?: Record<string, unknown> | Array<Record<string, unknown>>;
}

export interface InboundEndpoint {
  id: string;
  clusters: InboundCluster[];
}

export interface BasePayload {
  operationName: OperationName;
  operationVersion: string;
  connectorId: string;
}

export interface ActivateUserPayload extends BasePayload {
  operationName: "AWS.ActivateUser";
}
export interface DeactivateUserPayload extends BasePayload {
  operationName: "AWS.DeactivateUser";
}
export interface DiscoverDevicesPayload extends BasePayload {
  operationName: "AWS.DiscoverDevices";
  deviceDiscoveryId: string;
  connectorDeviceIdList?: string[];
}
export interface SendCommandPayload extends BasePayload {
  operationName: "AWS.SendCommand";
  connectorDeviceId: string;
  traceId: string;
  endpoints: InboundEndpoint[];
}

export type ConnectorPayload = ActivateUserPayload | DeactivateUserPayload | DiscoverDevicesPayload | SendCommandPayload;

export interface ConnectorRequest<P extends ConnectorPayload = ConnectorPayload> {
  header: { auth: AuthHeader };
  payload: P;
}

/** The synchronous answer ("ACK"), §2.2. */
export interface ConnectorResponse {
  header: { responseCode: number };
  payload?: { responseMessage?: string; userId?: string };
}

/**
 * ACK response codes used by the engine. MI documents only 200; the rest are HTTP-style codes
 * chosen by this project (c2c-protocol.md §2.2 marks them as inferred) and listed in the README.
 */
export const ResponseCode = {
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;

export function ack(responseCode: number, responseMessage?: string, userId?: string): ConnectorResponse {
  const payload: ConnectorResponse["payload"] = {};
  if (responseMessage !== undefined) payload.responseMessage = responseMessage;
  if (userId !== undefined) payload.userId = userId;
  return { header: { responseCode }, payload };
}
