/**
 * Where SendConnectorEvent goes, following the service's endpoint rule set (c2c-protocol.md §8.1):
 * dual-stack hosts only, FIPS variant, custom endpoint (local emulator, VPC endpoint) that cannot be
 * combined with FIPS, and a mandatory region (it is also the SigV4 signing region).
 */

export class EndpointConfigError extends Error {
  override readonly name = "EndpointConfigError";
}

export interface EndpointOptions {
  region?: string;
  endpoint?: string;
  useFips?: boolean;
}

export interface ResolvedEndpoint {
  /** Base URL; the request path is appended to its pathname. */
  url: URL;
  signingRegion: string;
}

const REGION_PATTERN = /^[a-z]{2,}(-[a-z0-9]+)+$/;

/** Fills unset options from the environment, as the AWS SDK does (plus C2C_MI_ENDPOINT). */
export function endpointOptionsFromEnv(options: EndpointOptions, env: NodeJS.ProcessEnv = process.env): EndpointOptions {
  return {
    region: options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined),
    endpoint: options.endpoint ?? (env.C2C_MI_ENDPOINT || undefined),
    useFips: options.useFips ?? env.AWS_USE_FIPS_ENDPOINT?.toLowerCase() === "true",
  };
}

export function resolveEventEndpoint(options: EndpointOptions): ResolvedEndpoint {
  const { region, endpoint, useFips = false } = options;
  if (!region) {
    throw new EndpointConfigError(
      "Invalid Configuration: Missing Region (set the region option, AWS_REGION or AWS_DEFAULT_REGION; it is also the SigV4 signing region)",
    );
  }
  if (!REGION_PATTERN.test(region)) throw new EndpointConfigError(`Invalid Configuration: region ${JSON.stringify(region)} is not a region name`);
  if (endpoint !== undefined) {
    if (useFips) throw new EndpointConfigError("Invalid Configuration: FIPS and custom endpoint are not supported");
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new EndpointConfigError(`Invalid Configuration: endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new EndpointConfigError(`Invalid Configuration: endpoint must be http(s), got ${url.protocol}`);
    if (url.search || url.hash) throw new EndpointConfigError("Invalid Configuration: endpoint must not have a query or fragment");
    return { url, signingRegion: region };
  }
  const host = `api.iotmanagedintegrations${useFips ? "-fips" : ""}.${region}.${dualStackDnsSuffix(region)}`;
  return { url: new URL(`https://${host}`), signingRegion: region };
}

/** Partition suffixes of the partitions the service is offered in; others need an explicit endpoint. */
function dualStackDnsSuffix(region: string): string {
  if (region.startsWith("cn-")) return "api.amazonwebservices.com.cn";
  if (/^(us-iso|eu-iso|eusc-)/.test(region)) {
    throw new EndpointConfigError(`Invalid Configuration: no known endpoint for region ${region}; set the endpoint option or C2C_MI_ENDPOINT`);
  }
  return "api.aws"; // commercial and GovCloud
}

/** Path of the operation below the endpoint's base path; the label is URL-encoded (restJson1 httpLabel). */
export function connectorEventPath(baseUrl: URL, connectorId: string): string {
  const base = baseUrl.pathname.replace(/\/+$/, "");
  return `${base}/connector-event/${encodeLabel(connectorId)}`;
}

/** encodeURIComponent plus the RFC 3986 reserved characters it leaves alone, as the AWS SDK encodes labels. */
function encodeLabel(label: string): string {
  return encodeURIComponent(label).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
