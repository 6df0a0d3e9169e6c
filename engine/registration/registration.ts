/**
 * The MI registration calls an integrator makes once per deployed connector, derived from the compiled
 * mapping so that the YAML (OAuth endpoints, scopes, auth method, auth material name) and what MI is told
 * cannot drift apart. Bodies follow the CreateCloudConnector / CreateConnectorDestination inputs of the
 * managed integrations Smithy model; values the bundle cannot know (ARNs, ids) come from `opts` or stay
 * as visible `<PLACEHOLDER>` strings that `placeholdersIn()` lists.
 */
import { createHash } from "node:crypto";
import type { CompiledBundle } from "../mapping/compiled.ts";

export interface RegistrationOptions {
  /** ARN of the deployed connector function. */
  lambdaArn?: string;
  /** CreateCloudConnector `Name`; defaults to the vendor name. */
  connectorName?: string;
  /** The CloudConnectorId returned by CreateCloudConnector. */
  cloudConnectorId?: string;
  /** Secrets Manager secret holding the OAuth client credentials or the General Authorization material. */
  secretArn?: string;
  secretVersionId?: string;
  /** Where MI sends the end user after account linking (`oAuthCompleteRedirectUrl`). */
  redirectUrl?: string;
  /** The OAuth client id registered with the vendor; only goes into the secret template, never a request body. */
  clientId?: string;
}

export interface SecretsManagerRef {
  arn: string;
  versionId: string;
}

export interface CreateCloudConnectorBody {
  Name: string;
  Description: string;
  EndpointType: "LAMBDA";
  EndpointConfig: { lambda: { arn: string } };
  ClientToken: string;
}

export interface OAuthConfigBody {
  authUrl: string;
  tokenUrl: string;
  scope?: string;
  tokenEndpointAuthenticationScheme: "HTTP_BASIC" | "REQUEST_BODY_CREDENTIALS";
  oAuthCompleteRedirectUrl?: string;
  proactiveRefreshTokenRenewal?: { enabled: boolean; DaysBeforeRenewal: number };
}

export interface CreateConnectorDestinationBody {
  Name: string;
  Description: string;
  CloudConnectorId: string;
  /** Present for OAuth only: General Authorization destinations carry no AuthType. */
  AuthType?: "OAUTH";
  AuthConfig:
    | { oAuth: OAuthConfigBody }
    | { GeneralAuthorization: Array<{ AuthMaterialName: string; SecretsManager: SecretsManagerRef }> };
  /** OAuth only: the secret with the client id and secret. */
  SecretsManager?: SecretsManagerRef;
  ClientToken: string;
}

export interface RegistrationRequests {
  createCloudConnector: CreateCloudConnectorBody;
  createConnectorDestination: CreateConnectorDestinationBody;
  /**
   * What the destination secret must hold, as a template. For OAuth MI reads the client credentials
   * (their JSON key names are not documented by MI); for General Authorization the engine reads the
   * fields the mapping's `generalAuthorization.apply` names.
   */
  secretTemplate: Record<string, string>;
  /**
   * What the bundle declares but MI's CreateConnectorDestination cannot express (PKCE, query-string
   * client credentials, a public client), each as a sentence; `c2c registration` prints them.
   */
  limitations: string[];
}

export const PLACEHOLDERS = {
  lambdaArn: "<LAMBDA_ARN>",
  cloudConnectorId: "<CLOUD_CONNECTOR_ID>",
  secretArn: "<SECRET_ARN>",
  secretVersionId: "<SECRET_VERSION_ID>",
  clientId: "<CLIENT_ID>",
  clientSecret: "<CLIENT_SECRET>",
} as const;

// Smithy limits: DisplayName / ConnectorDestinationName 1-128 `^[A-Za-z0-9-_ ]+$`,
// descriptions 1-256 `^[0-9A-Za-z_\- ]+$`, ClientToken 1-64 `^[a-zA-Z0-9=_-]+$`.
const NAME_MAX = 128;
const DESCRIPTION_MAX = 256;
// AuthUrl / TokenUrl: 1-1024 characters.
const URL_MAX = 1024;

/** Extra parameters appended to a URL's query (after any it already has), in declaration order. */
function withQueryParams(url: string, params: Record<string, string> | undefined): string {
  if (!params || Object.keys(params).length === 0) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.href;
}

export function registrationRequests(bundle: CompiledBundle, opts: RegistrationOptions = {}): RegistrationRequests {
  const connectorName = opts.connectorName ?? modelSafe(bundle.vendor.name, NAME_MAX, bundle.vendor.id);
  const lambdaArn = opts.lambdaArn ?? PLACEHOLDERS.lambdaArn;
  const secret: SecretsManagerRef = {
    arn: opts.secretArn ?? PLACEHOLDERS.secretArn,
    versionId: opts.secretVersionId ?? PLACEHOLDERS.secretVersionId,
  };
  const cloudConnectorId = opts.cloudConnectorId ?? PLACEHOLDERS.cloudConnectorId;

  const createCloudConnector: CreateCloudConnectorBody = {
    Name: connectorName,
    Description: modelSafe(`C2C connector for ${bundle.vendor.name}`, DESCRIPTION_MAX, "C2C connector"),
    EndpointType: "LAMBDA",
    EndpointConfig: { lambda: { arn: lambdaArn } },
    ClientToken: clientToken("cloud-connector", bundle.vendor.id, lambdaArn),
  };

  const destinationBase = {
    Name: modelSafe(`${connectorName} destination`, NAME_MAX, "destination"),
    Description: modelSafe(`${bundle.vendor.name} account linking`, DESCRIPTION_MAX, "account linking"),
    CloudConnectorId: cloudConnectorId,
    ClientToken: clientToken("destination", bundle.vendor.id, cloudConnectorId, secret.arn),
  };

  if (bundle.oauth) {
    const { oauth } = bundle;
    const limitations: string[] = [];
    const method = oauth.tokenEndpointAuthMethod;
    // MI knows only these two schemes; the others are registered as the closest one, and said so.
    const scheme = method === "HTTP_BASIC" ? "HTTP_BASIC" : "REQUEST_BODY_CREDENTIALS";
    if (method === "QUERY_STRING_CREDENTIALS") {
      limitations.push(
        "the vendor wants client_id and client_secret in the token request's query string; MI's tokenEndpointAuthenticationScheme offers only HTTP_BASIC and REQUEST_BODY_CREDENTIALS, so REQUEST_BODY_CREDENTIALS is registered and the vendor may refuse it",
      );
    }
    if (method === "NONE") {
      limitations.push(
        "the vendor's client is public (no client secret); MI has no scheme for that, so REQUEST_BODY_CREDENTIALS is registered and the destination secret holds the client id only",
      );
    }
    if (oauth.pkce) limitations.push("the vendor requires PKCE; MI's OAuthConfig has no PKCE setting");
    const oAuth: OAuthConfigBody = {
      authUrl: withQueryParams(oauth.authorizationUrl, oauth.authorizationParams),
      tokenUrl: withQueryParams(oauth.tokenUrl, oauth.tokenParams),
      tokenEndpointAuthenticationScheme: scheme,
    };
    for (const [name, url] of [["authUrl", oAuth.authUrl], ["tokenUrl", oAuth.tokenUrl]] as const) {
      if (url.length > URL_MAX) limitations.push(`${name} is ${url.length} characters; MI accepts at most ${URL_MAX}`);
    }
    // RFC 6749 §3.3: several scopes are one space-delimited string.
    if (oauth.scopes?.length) oAuth.scope = oauth.scopes.join(" ");
    if (opts.redirectUrl) oAuth.oAuthCompleteRedirectUrl = opts.redirectUrl;
    if (oauth.proactiveRefreshDays !== undefined) {
      oAuth.proactiveRefreshTokenRenewal = { enabled: true, DaysBeforeRenewal: oauth.proactiveRefreshDays };
    }
    const secretTemplate: Record<string, string> = { clientId: opts.clientId ?? PLACEHOLDERS.clientId };
    // A public client has no secret: none is asked for.
    if (method !== "NONE") secretTemplate.clientSecret = PLACEHOLDERS.clientSecret;
    return {
      createCloudConnector,
      createConnectorDestination: { ...destinationBase, AuthType: "OAUTH", AuthConfig: { oAuth }, SecretsManager: secret },
      secretTemplate,
      limitations,
    };
  }

  if (bundle.generalAuthorization) {
    const ga = bundle.generalAuthorization;
    return {
      createCloudConnector,
      createConnectorDestination: {
        ...destinationBase,
        AuthConfig: { GeneralAuthorization: [{ AuthMaterialName: ga.authMaterialName, SecretsManager: secret }] },
      },
      secretTemplate: Object.fromEntries(
        [ga.apply.field, ga.apply.usernameField, ga.apply.passwordField]
          .filter((f): f is string => typeof f === "string")
          .map((f) => [f, `<${f.toUpperCase()}>`]),
      ),
      limitations: [],
    };
  }

  throw new Error(`bundle ${bundle.source}: declares neither oauth nor generalAuthorization, so no connector destination can be registered`);
}

/**
 * The registration as one JSON document, keyed by the MI operation each body is the input of: what
 * `c2c registration` prints and what the build writes to dist/<bundle>/registration.json, so the two
 * cannot differ. `limitations` lists what MI cannot be told (empty for most bundles).
 */
export interface RegistrationDocument {
  CreateCloudConnector: CreateCloudConnectorBody;
  CreateConnectorDestination: CreateConnectorDestinationBody;
  secretTemplate: Record<string, string>;
  limitations: string[];
}

export function registrationDocument(requests: RegistrationRequests): RegistrationDocument {
  return {
    CreateCloudConnector: requests.createCloudConnector,
    CreateConnectorDestination: requests.createConnectorDestination,
    secretTemplate: requests.secretTemplate,
    limitations: requests.limitations,
  };
}

/** Every `<PLACEHOLDER>` left in the requests, as `path: placeholder` lines, so a caller can refuse to submit them. */
export function placeholdersIn(value: unknown, at = "$"): string[] {
  if (typeof value === "string") return /^<[A-Z_]+>$/.test(value) ? [`${at}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholdersIn(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => placeholdersIn(v, `${at}.${k}`));
  return [];
}

/** Names and descriptions only allow letters, digits, `-`, `_` and spaces: replace the rest, trim to the limit. */
function modelSafe(text: string, max: number, fallback: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9\-_ ]+/g, " ").replace(/\s+/g, " ").trim().slice(0, max).trim();
  return cleaned || fallback;
}

/** Deterministic idempotency token: re-running a registration with the same inputs cannot create twins. */
function clientToken(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 64);
}
