/**
 * Builds the Lambda HTTP event a vendor delivery arrives as (function URL / HTTP API payload 2.0,
 * or API Gateway REST 1.0), signing the raw body as the vendor would. Used by fixture tests and
 * local tools to play the vendor; the ingress never calls it.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, sign as signBytes, type JsonWebKey } from "node:crypto";

export interface DeliverySpec {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string exactly as written. */
  body?: unknown;
  sign?: HmacSigning | JwtSigning | HttpSignatureSigning;
  version?: "1.0" | "2.0";
}

export interface HmacSigning {
  scheme: "hmac";
  algorithm: "sha1" | "sha256" | "sha512";
  encoding: "hex" | "base64";
  header: string;
  secretEnv: string;
  prefix?: string;
  /** When set, the current epoch seconds go in this header and `<timestamp>.<body>` is signed. */
  timestampHeader?: string;
}

/**
 * A bearer token the sender signs per delivery (push services that authenticate with an OIDC
 * token): a JWT with `claims` plus iat/exp, signed with a test private key (RS256 for RSA, ES256
 * for P-256). The matching public key set is `publicKeySet(privateJwk)`.
 */
export interface JwtSigning {
  scheme: "jwt";
  /** The private key as a JWK (with `kid`), a test key: never a real one. */
  privateJwk: JsonWebKey & { kid?: string };
  claims: Record<string, unknown>;
  /** Default 3600. */
  expiresInSeconds?: number;
  /** Default "Authorization" with prefix "Bearer ". */
  header?: string;
  prefix?: string;
  /** What the sender's JWKS publishes (default: the public half of privateJwk); another key makes a forged token. */
  publishedJwk?: JsonWebKey & { kid?: string };
  /** Claims put into the token after signing: a token tampered with on the way (its signature no longer covers them). */
  tamperedClaims?: Record<string, unknown>;
}

/**
 * A draft-cavage HTTP signature as senders of that draft make it: `Digest` (SHA-256 of the
 * body) and `Date` set, the listed components signed with a test private key, the parameters in
 * `Authorization: Signature ...` (or a `Signature` header). The receiver's key for `keyId` is
 * `publishedKeyPem`, or the public half of the signing key.
 */
export interface HttpSignatureSigning {
  scheme: "httpSignature";
  /** PKCS#8 PEM private key, a test key made for the fixture: never a real one. */
  privateKeyPem: string;
  keyId: string;
  /** Default rsa-sha256. */
  algorithm?: "rsa-sha256" | "ecdsa-sha256" | "ed25519";
  /** Default ["(request-target)", "digest", "date"]. */
  components?: string[];
  /** Default "Authorization" (value `Signature <params>`); "Signature" carries the bare parameters. */
  header?: "Authorization" | "Signature";
  /** Dates the delivery this many seconds from now (negative: an old, replayed-looking delivery). */
  dateOffsetSeconds?: number;
  /** Signs (and digests) this body instead of the one sent: a delivery altered on the way. */
  signedBody?: string;
  /** What the sender publishes at keyId (PEM public key or certificate); default the signing key's public half. */
  publishedKeyPem?: string;
}

/** The document a key server answers for the signing key of `sign`. */
export function publishedKey(sign: HttpSignatureSigning): string {
  return sign.publishedKeyPem ?? createPublicKey(createPrivateKey(sign.privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
}

function signHttpMessage(sign: HttpSignatureSigning, method: string, path: string, query: Record<string, string>, body: string, headers: Record<string, string>): void {
  const signedBody = sign.signedBody ?? body;
  headers.date = new Date(Date.now() + (sign.dateOffsetSeconds ?? 0) * 1000).toUTCString();
  headers.digest = `SHA-256=${createHash("sha256").update(signedBody, "utf8").digest("base64")}`;
  const qs = new URLSearchParams(query).toString();
  const components = sign.components ?? ["(request-target)", "digest", "date"];
  const value = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? "";
  const base = components.map((c) => (c === "(request-target)" ? `(request-target): ${method.toLowerCase()} ${path}${qs ? `?${qs}` : ""}` : `${c.toLowerCase()}: ${value(c)}`)).join("\n");
  const algorithm = sign.algorithm ?? "rsa-sha256";
  const key = createPrivateKey(sign.privateKeyPem);
  const signature = signBytes(algorithm === "ed25519" ? null : "sha256", Buffer.from(base, "utf8"), key).toString("base64");
  const params = `keyId="${sign.keyId}",signature="${signature}",headers="${components.join(" ")}",algorithm="${algorithm}"`;
  if ((sign.header ?? "Authorization") === "Signature") headers.signature = params;
  else headers.authorization = `Signature ${params}`;
}

export function deliveryEvent(spec: DeliverySpec, env: Record<string, string | undefined> = process.env): Record<string, unknown> {
  const method = (spec.method ?? "POST").toUpperCase();
  const path = spec.path ?? "/";
  const body = spec.body === undefined ? "" : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  if (body !== "" && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  if (spec.sign?.scheme === "httpSignature") {
    signHttpMessage(spec.sign, method, path, spec.query ?? {}, body, headers);
  } else if (spec.sign?.scheme === "jwt") {
    const token = signJwt(spec.sign, Math.floor(Date.now() / 1000));
    headers[spec.sign.header ?? "Authorization"] = (spec.sign.prefix ?? (spec.sign.header ? "" : "Bearer ")) + token;
  } else if (spec.sign) {
    const secret = env[spec.sign.secretEnv];
    if (!secret) throw new Error(`cannot sign the delivery: environment variable ${spec.sign.secretEnv} is not set`);
    let signed = body;
    if (spec.sign.timestampHeader) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers[spec.sign.timestampHeader] = ts;
      signed = `${ts}.${body}`;
    }
    const signature = createHmac(spec.sign.algorithm, secret).update(Buffer.from(signed, "utf8")).digest(spec.sign.encoding);
    headers[spec.sign.header] = (spec.sign.prefix ?? "") + signature;
  }
  const query = spec.query ?? {};
  if (spec.version === "1.0") {
    return {
      resource: "/{proxy+}",
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: Object.keys(query).length ? query : null,
      multiValueQueryStringParameters: Object.keys(query).length ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
      requestContext: { httpMethod: method, path, identity: { sourceIp: "127.0.0.1" } },
      body,
      isBase64Encoded: false,
    };
  }
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "fixture" }, requestId: "fixture", timeEpoch: Date.now() },
    body,
    isBase64Encoded: false,
  };
}

/** Sets variables on process.env; the returned function restores what was there before. */
export function withEnv(vars: Record<string, string>): () => void {
  const before = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    before.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

function jwtAlgorithm(jwk: JsonWebKey): "RS256" | "ES256" {
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  throw new Error(`cannot sign the delivery: a ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ""} key (RSA or EC P-256 only)`);
}

function signJwt(spec: JwtSigning, nowSeconds: number): string {
  const alg = jwtAlgorithm(spec.privateJwk);
  const header = { alg, typ: "JWT", ...(spec.privateJwk.kid ? { kid: spec.privateJwk.kid } : {}) };
  const payload = { iat: nowSeconds, exp: nowSeconds + (spec.expiresInSeconds ?? 3600), ...spec.claims };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const key = createPrivateKey({ key: spec.privateJwk, format: "jwk" });
  // JWS wants ECDSA signatures as r||s (IEEE P1363), not DER.
  const signature = signBytes("sha256", Buffer.from(input), alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key);
  const sent = spec.tamperedClaims ? `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify({ ...payload, ...spec.tamperedClaims }))}` : input;
  return `${sent}.${b64url(signature)}`;
}

/** The public JWKS a receiver checks tokens of `privateJwk` against. */
export function publicKeySet(privateJwk: JsonWebKey & { kid?: string }): { keys: JsonWebKey[] } {
  const pub = createPublicKey(createPrivateKey({ key: privateJwk, format: "jwk" })).export({ format: "jwk" });
  return { keys: [{ ...pub, alg: jwtAlgorithm(privateJwk), use: "sig", ...(privateJwk.kid ? { kid: privateJwk.kid } : {}) }] };
}
