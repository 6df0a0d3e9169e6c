/**
 * Local stand-in for the managed integrations control-plane operations `c2c deploy` calls
 * (restJson1, paths and codes from the Smithy model): CreateCloudConnector `POST /cloud-connectors`
 * -> 201 {Id}, ListCloudConnectors `GET /cloud-connectors?LambdaArn=`, CreateConnectorDestination
 * `POST /connector-destinations` -> 201 {Id}, ListConnectorDestinations `GET
 * /connector-destinations?CloudConnectorId=`, UpdateConnectorDestination `PUT
 * /connector-destinations/{Identifier}` -> 204. Every request must carry a valid SigV4 signature for
 * `iotmanagedintegrations` (checked as the SendConnectorEvent emulator checks it, with `aws4`); bodies
 * are checked for the members and patterns the model requires, and ClientToken makes a create
 * idempotent as the service documents.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback.ts";
import { LOCAL_TEST_CREDENTIALS, Rejection, verifySignature, type EmulatorCredentials } from "./mi-emulator.ts";

export interface EmulatedConnector {
  Id: string;
  Name: string;
  Description?: string;
  EndpointType: string;
  EndpointConfig: { lambda: { arn: string } };
  ClientToken: string;
}

export interface EmulatedDestination {
  Id: string;
  Name: string;
  Description?: string;
  CloudConnectorId: string;
  AuthType?: string;
  AuthConfig: any;
  SecretsManager?: { arn: string; versionId: string };
  ClientToken: string;
  updates: any[];
}

export interface MiControlPlaneEmulator {
  url: string;
  connectors: EmulatedConnector[];
  destinations: EmulatedDestination[];
  /** `METHOD /path` of every request, in order, and the rejections. */
  requests: string[];
  rejected: string[];
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9-_ ]+$/;
const CLIENT_TOKEN = /^[a-zA-Z0-9=_-]+$/;
const LAMBDA_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:[a-zA-Z0-9-_]+)?$/;
const SECRET_ARN = /^arn:aws:secretsmanager:[0-9a-zA-Z-]{1,32}:\d{12}:secret:[A-Za-z0-9/_+=.@-]{8,520}$/;
const VERSION_ID = /^[a-zA-Z0-9-_]{32,64}$/;

export async function startMiControlPlaneEmulator(options: { region?: string; credentials?: EmulatorCredentials } = {}): Promise<MiControlPlaneEmulator> {
  const region = options.region ?? "us-east-1";
  const credentials = options.credentials ?? LOCAL_TEST_CREDENTIALS;
  const connectors: EmulatedConnector[] = [];
  const destinations: EmulatedDestination[] = [];
  const requests: string[] = [];
  const rejected: string[] = [];

  const invalid = (message: string) => new Rejection(400, "ValidationException", message);

  function checkSecret(s: any, at: string): void {
    if (!s || typeof s.arn !== "string" || !SECRET_ARN.test(s.arn)) throw invalid(`${at}.arn must match ${SECRET_ARN.source}`);
    if (typeof s.versionId !== "string" || !VERSION_ID.test(s.versionId)) throw invalid(`${at}.versionId must match ${VERSION_ID.source}`);
  }

  function createConnector(b: any): { status: number; body: unknown } {
    if (typeof b.Name !== "string" || !NAME.test(b.Name) || b.Name.length > 128) throw invalid("Name is required: 1-128 of [A-Za-z0-9-_ ]");
    if (b.EndpointType !== undefined && b.EndpointType !== "LAMBDA") throw invalid("EndpointType must be LAMBDA");
    const arn = b.EndpointConfig?.lambda?.arn;
    if (typeof arn !== "string" || !LAMBDA_ARN.test(arn)) throw invalid("EndpointConfig.lambda.arn must be a Lambda function ARN");
    if (typeof b.ClientToken !== "string" || !CLIENT_TOKEN.test(b.ClientToken) || b.ClientToken.length > 64) throw invalid("ClientToken must be 1-64 of [a-zA-Z0-9=_-]");
    const same = connectors.find((c) => c.ClientToken === b.ClientToken);
    if (same) {
      if (same.EndpointConfig.lambda.arn !== arn || same.Name !== b.Name) throw new Rejection(409, "ConflictException", "ClientToken reused with different parameters");
      return { status: 201, body: { Id: same.Id } };
    }
    const c: EmulatedConnector = { Id: `cc-${randomUUID().slice(0, 8)}`, Name: b.Name, Description: b.Description, EndpointType: "LAMBDA", EndpointConfig: { lambda: { arn } }, ClientToken: b.ClientToken };
    connectors.push(c);
    return { status: 201, body: { Id: c.Id } };
  }

  function createDestination(b: any): { status: number; body: unknown } {
    if (typeof b.Name !== "string" || !NAME.test(b.Name)) throw invalid("Name must be 1-128 of [A-Za-z0-9-_ ]");
    if (typeof b.CloudConnectorId !== "string" || !b.CloudConnectorId) throw invalid("CloudConnectorId is required");
    if (!connectors.some((c) => c.Id === b.CloudConnectorId)) throw new Rejection(404, "ResourceNotFoundException", `cloud connector ${b.CloudConnectorId} not found`);
    if (typeof b.ClientToken !== "string" || !CLIENT_TOKEN.test(b.ClientToken)) throw invalid("ClientToken must be 1-64 of [a-zA-Z0-9=_-]");
    const oauth = b.AuthConfig?.oAuth;
    const general = b.AuthConfig?.GeneralAuthorization;
    if (oauth) {
      if (b.AuthType !== "OAUTH") throw invalid("AuthType must be OAUTH with AuthConfig.oAuth");
      for (const k of ["authUrl", "tokenUrl"]) if (typeof oauth[k] !== "string" || !/^https?:\/\//.test(oauth[k])) throw invalid(`AuthConfig.oAuth.${k} must be an http(s) URL`);
      if (!["HTTP_BASIC", "REQUEST_BODY_CREDENTIALS"].includes(oauth.tokenEndpointAuthenticationScheme)) throw invalid("tokenEndpointAuthenticationScheme must be HTTP_BASIC or REQUEST_BODY_CREDENTIALS");
      checkSecret(b.SecretsManager, "SecretsManager");
    } else if (Array.isArray(general) && general.length >= 1 && general.length <= 3) {
      general.forEach((m: any, i: number) => checkSecret(m?.SecretsManager, `AuthConfig.GeneralAuthorization[${i}].SecretsManager`));
    } else throw invalid("AuthConfig needs oAuth or GeneralAuthorization (1-3 materials)");
    const same = destinations.find((d) => d.ClientToken === b.ClientToken);
    if (same) return { status: 201, body: { Id: same.Id } };
    const d: EmulatedDestination = { Id: `cd-${randomUUID().slice(0, 8)}`, ...b, updates: [] };
    destinations.push(d);
    return { status: 201, body: { Id: d.Id } };
  }

  function route(method: string, path: string, query: URLSearchParams, body: any): { status: number; body: unknown } {
    if (method === "POST" && path === "/cloud-connectors") return createConnector(body);
    if (method === "GET" && path === "/cloud-connectors") {
      const arn = query.get("LambdaArn");
      const items = connectors.filter((c) => !arn || c.EndpointConfig.lambda.arn === arn);
      return { status: 200, body: { Items: items.map(({ ClientToken: _t, ...c }) => ({ ...c, Type: "UNLISTED" })) } };
    }
    if (method === "POST" && path === "/connector-destinations") return createDestination(body);
    if (method === "GET" && path === "/connector-destinations") {
      const id = query.get("CloudConnectorId");
      const list = destinations.filter((d) => !id || d.CloudConnectorId === id).map((d) => ({ Name: d.Name, Description: d.Description, CloudConnectorId: d.CloudConnectorId, Id: d.Id }));
      return { status: 200, body: { ConnectorDestinationList: list } };
    }
    const update = /^\/connector-destinations\/([^/]+)$/.exec(path);
    if (method === "PUT" && update) {
      const d = destinations.find((x) => x.Id === decodeURIComponent(update[1]!));
      if (!d) throw new Rejection(404, "ResourceNotFoundException", "connector destination not found");
      if (body.SecretsManager !== undefined) checkSecret(body.SecretsManager, "SecretsManager");
      d.updates.push(body);
      if (body.SecretsManager) d.SecretsManager = body.SecretsManager;
      return { status: 204, body: undefined };
    }
    throw new Rejection(404, "UnknownOperationException", `no operation at ${method} ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://local");
    requests.push(`${req.method} ${url.pathname}`);
    const auth = verifySignature(req, raw, { region, credentials });
    if (auth) throw auth;
    let body: unknown = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        throw invalid("request body is not valid JSON");
      }
    }
    const out = route(req.method ?? "GET", url.pathname, url.searchParams, body);
    if (out.body === undefined) res.writeHead(out.status, { "x-amzn-requestid": randomUUID() }).end();
    else res.writeHead(out.status, { "content-type": "application/json", "x-amzn-requestid": randomUUID() }).end(JSON.stringify(out.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const r = err instanceof Rejection ? err : new Rejection(500, "InternalServerException", (err as Error).message);
      rejected.push(`${r.status} ${r.errorType}: ${r.message}`);
      res.writeHead(r.status, { "content-type": "application/json", "x-amzn-errortype": r.errorType }).end(JSON.stringify({ message: r.message }));
    });
  });
  const listening = await listenOnLoopback(server);
  return { url: listening.endpoint, connectors, destinations, requests, rejected, close: listening.close };
}
