/**
 * One entry for every verification scheme a bundle can declare. The single-header schemes
 * (hmac, sharedSecret, publicKey) are synchronous (verify.ts); HTTP message signatures and
 * bearer tokens may need to fetch keys, so this is async. Key caches live as long as the
 * container (one instance per webhook handler).
 */
import { verifyHttpSignature } from "./http-signature.ts";
import type { WebhookRequest } from "./http-event.ts";
import { verifyJwtBearer, JwksCache, type JwksCacheOptions } from "./jwt-bearer.ts";
import { KeyFetcher } from "./key-fetch.ts";
import type { DeliveryVerifyOptions } from "./secret-source.ts";
import { verifyWebhook, type VerifyResult } from "./verify.ts";

export interface DeliveryAuthenticatorOptions {
  jwks?: JwksCacheOptions;
  fetch?: typeof fetch;
}

export class DeliveryAuthenticator {
  private readonly keys: KeyFetcher;
  private readonly jwks: JwksCache;

  constructor(options: DeliveryAuthenticatorOptions = {}) {
    this.keys = new KeyFetcher(options.fetch);
    this.jwks = new JwksCache(options.jwks);
  }

  async verify(req: WebhookRequest, options: DeliveryVerifyOptions, now: number): Promise<VerifyResult> {
    switch (options.scheme) {
      case "httpSignature":
        return verifyHttpSignature(req, options, this.keys, now);
      case "jwt":
        return verifyJwtBearer(req, options, this.jwks, now);
      default:
        return verifyWebhook(req, options, now);
    }
  }
}

/**
 * The HTTP status a refused delivery gets: 503 when the connector could not check it (the key
 * server was unreachable: the vendor should try again), 401 otherwise.
 */
export function refusalStatus(result: VerifyResult): 401 | 503 {
  return !result.ok && result.code === "key_unavailable" ? 503 : 401;
}
