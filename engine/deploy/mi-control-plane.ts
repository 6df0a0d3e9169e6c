/**
 * The managed integrations control-plane calls of a deployment (restJson1, SigV4-signed like
 * SendConnectorEvent, with the same signer and endpoint rules): find or create the cloud connector,
 * find, create or update the connector destination. No SDK client exists for the service in this
 * project's dependencies, and these five operations are plain JSON over HTTPS.
 */
import type { CreateCloudConnectorBody, CreateConnectorDestinationBody } from "../registration/registration.ts";
import { SIGNING_NAME, type CredentialsProvider } from "../mi/client.ts";
import { resolveEventEndpoint, type EndpointOptions } from "../mi/endpoint.ts";
import { canonicalQuery, SigV4Signer } from "../mi/sigv4.ts";

export class MiControlPlaneError extends Error {
  override readonly name = "MiControlPlaneError";
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(`${operation}: ${status} ${errorType}: ${message}`);
  }
}

export interface MiRequest {
  operation: string;
  method: "GET" | "POST" | "PUT";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** The five requests, as data: the dry run prints them, the client sends them. */
export const miRequests = {
  listCloudConnectors: (lambdaArn: string): MiRequest => ({ operation: "ListCloudConnectors", method: "GET", path: "/cloud-connectors", query: { LambdaArn: lambdaArn } }),
  createCloudConnector: (body: CreateCloudConnectorBody): MiRequest => ({ operation: "CreateCloudConnector", method: "POST", path: "/cloud-connectors", body }),
  listConnectorDestinations: (cloudConnectorId: string): MiRequest => ({
    operation: "ListConnectorDestinations",
    method: "GET",
    path: "/connector-destinations",
    query: { CloudConnectorId: cloudConnectorId },
  }),
  createConnectorDestination: (body: CreateConnectorDestinationBody): MiRequest => ({ operation: "CreateConnectorDestination", method: "POST", path: "/connector-destinations", body }),
  updateConnectorDestination: (id: string, body: Record<string, unknown>): MiRequest => ({
    operation: "UpdateConnectorDestination",
    method: "PUT",
    path: `/connector-destinations/${encodeURIComponent(id)}`,
    body,
  }),
};

export function miUrl(base: URL, r: MiRequest): string {
  const path = `${base.pathname.replace(/\/+$/, "")}${r.path}`;
  return `${base.origin}${path}${r.query ? `?${canonicalQuery(r.query)}` : ""}`;
}

export class MiControlPlaneClient {
  private readonly signer: SigV4Signer;
  readonly baseUrl: URL;

  constructor(
    endpoint: EndpointOptions,
    private readonly credentials: CredentialsProvider,
  ) {
    const resolved = resolveEventEndpoint(endpoint);
    this.baseUrl = resolved.url;
    this.signer = new SigV4Signer(SIGNING_NAME, resolved.signingRegion);
  }

  url(r: MiRequest): string {
    return miUrl(this.baseUrl, r);
  }

  async send<T>(r: MiRequest): Promise<T | undefined> {
    const body = r.body === undefined ? "" : JSON.stringify(r.body);
    const path = `${this.baseUrl.pathname.replace(/\/+$/, "")}${r.path}`;
    const headers = this.signer.sign(
      { method: r.method, host: this.baseUrl.host, path, ...(r.query ? { query: r.query } : {}), headers: body ? { "content-type": "application/json" } : {}, body },
      await this.credentials(),
    );
    // host is set by fetch from the URL; passing it again is refused.
    delete headers.host;
    const res = await fetch(this.url(r), { method: r.method, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string; Message?: string }).message ?? (JSON.parse(text) as { Message?: string }).Message ?? message;
      } catch {
        // not JSON: the raw text says it
      }
      throw new MiControlPlaneError(r.operation, res.status, res.headers.get("x-amzn-errortype")?.split(":")[0] ?? "UnknownError", message);
    }
    return text ? (JSON.parse(text) as T) : undefined;
  }
}
