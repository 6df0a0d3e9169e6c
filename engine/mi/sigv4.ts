/**
 * AWS Signature Version 4 for the request shapes this project sends (a JSON body and no query; `c2c
 * deploy`'s control-plane GETs add a small query), with the signing key cached per day, region, service and secret. Per request
 * that leaves two SHA-256 hashes and one HMAC, against the general signer's header cloning,
 * canonicalisation of arbitrary requests and a fresh key derivation lookup. The output is what
 * @smithy/signature-v4 produces for the same request and time (test/mi/sigv4.test.ts checks it
 * byte for byte, and the MI emulator verifies every signature with the independent `aws4` package).
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { sha256Hex } from "../util/sha256.ts";
import type { AwsCredentials } from "./client.ts";

/** SHA-256 as lowercase hex, in one call where Node has `crypto.hash`. */
export { sha256Hex };

export interface SignInput {
  method: string;
  host: string;
  /** Already URI-encoded path (as sent on the wire), no query. */
  path: string;
  /** Query parameters (control-plane GETs of `c2c deploy`); none for SendConnectorEvent. */
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export class SigV4Signer {
  private cached?: { scopeDate: string; accessKeyId: string; secretAccessKey: string; key: KeyObject };
  /** x-amz-date of the last second signed in: formatting a date costs more than the rest of the headers. */
  private stamp = { second: NaN, amzDate: "" };
  private readonly canonicalPaths = new Map<string, string>();

  constructor(
    private readonly service: string,
    private readonly region: string,
  ) {}

  /** Returns the headers to send: the input headers plus host, x-amz-date, x-amz-content-sha256, [x-amz-security-token], authorization. */
  sign(input: SignInput, credentials: AwsCredentials, now: Date = new Date()): Record<string, string> {
    const amzDate = this.amzDate(now);
    const scopeDate = amzDate.slice(0, 8);
    const payloadHash = sha256Hex(input.body);
    const headers: Record<string, string> = {};
    for (const name in input.headers) headers[name.toLowerCase()] = input.headers[name]!;
    headers.host = input.host;
    headers["x-amz-date"] = amzDate;
    headers["x-amz-content-sha256"] = payloadHash;
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;

    const names = Object.keys(headers).sort();
    let canonicalHeaders = "";
    for (const name of names) canonicalHeaders += `${name}:${canonicalValue(headers[name]!)}\n`;
    const signedHeaders = names.join(";");
    const canonicalRequest = `${input.method}\n${this.canonicalPathOf(input.path)}\n${input.query ? canonicalQuery(input.query) : ""}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${scopeDate}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac("sha256", this.signingKey(scopeDate, credentials)).update(stringToSign, "utf8").digest("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  /** The canonical form of a request path, kept per path: an event's path is its connector's, always the same. */
  private canonicalPathOf(path: string): string {
    let canonical = this.canonicalPaths.get(path);
    if (canonical === undefined) {
      if (this.canonicalPaths.size >= MAX_CACHED_PATHS) this.canonicalPaths.clear();
      canonical = canonicalPath(path);
      this.canonicalPaths.set(path, canonical);
    }
    return canonical;
  }

  /** 20260101T120000Z, formatted once per second. */
  private amzDate(now: Date): string {
    const second = Math.floor(now.getTime() / 1000);
    if (second !== this.stamp.second) this.stamp = { second, amzDate: now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "") };
    return this.stamp.amzDate;
  }

  /**
   * The HMAC chain, once per day (and again when the credentials rotate). Kept as a KeyObject:
   * createHmac with a KeyObject skips copying and importing raw key bytes on every signature.
   */
  private signingKey(scopeDate: string, c: AwsCredentials): KeyObject {
    const hit = this.cached;
    if (hit && hit.scopeDate === scopeDate && hit.accessKeyId === c.accessKeyId && hit.secretAccessKey === c.secretAccessKey) return hit.key;
    const kDate = createHmac("sha256", `AWS4${c.secretAccessKey}`).update(scopeDate).digest();
    const kRegion = createHmac("sha256", kDate).update(this.region).digest();
    const kService = createHmac("sha256", kRegion).update(this.service).digest();
    const key = createSecretKey(createHmac("sha256", kService).update("aws4_request").digest());
    this.cached = { scopeDate, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, key };
    return key;
  }
}

/** Paths whose canonical form a signer keeps (control-plane GETs of `c2c deploy` vary; events do not). */
const MAX_CACHED_PATHS = 256;

/** Whitespace SigV4 folds in a header value: leading or trailing, a run of two, or any but a space. */
const FOLDABLE = /^\s|\s$|\s\s|[^\S ]/;

/** Trimmed, each whitespace run one space; most values have none, and are returned as they are. */
function canonicalValue(value: string): string {
  return FOLDABLE.test(value) ? value.trim().replace(/\s+/g, " ") : value;
}

/**
 * Non-S3 services: dot segments removed, then every segment URI-encoded once more (the path on
 * the wire is already encoded, so `%` becomes `%25`), as the AWS SDKs do.
 */
function canonicalPath(path: string): string {
  if (path === "" || path === "/") return "/";
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const encoded = segments.map(escapeUri).join("/");
  return `/${encoded}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
}

/** Names and values URI-encoded, sorted by name (SigV4's canonical query string). */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
