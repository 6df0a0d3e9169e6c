/**
 * Deliveries signed with a JWT, as the fixture runner plays a push sender: the token verifies
 * against the public set of the test key (RS256 and ES256), carries the fixture's claims with
 * iat/exp, and the engine's JWKS cache answers a bundle's jwksUrl from a local set, unfetched.
 */
import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { createLocalJWKSet, jwtVerify } from "jose";
import { deliveryEvent, publicKeySet, type JwtSigning } from "../../engine/webhook/delivery-event.ts";
import { JwksCache } from "../../engine/webhook/jwt-bearer.ts";

function testKey(kind: "rsa" | "ec") {
  const { privateKey } = kind === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid: `k-${kind}` };
}

const tokenOf = (event: Record<string, any>) => (event.headers.authorization as string).replace(/^Bearer /, "");

describe("deliveries signed with a JWT", () => {
  for (const kind of ["rsa", "ec"] as const) {
    it(`${kind === "rsa" ? "RS256" : "ES256"}: verifies against the key's public set, with the claims, iat and exp`, async () => {
      const privateJwk = testKey(kind);
      const sign: JwtSigning = { scheme: "jwt", privateJwk, claims: { iss: "https://issuer.example.test", aud: "push", email: "a@example.test" } };
      const token = tokenOf(deliveryEvent({ body: { x: 1 }, sign }));
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(publicKeySet(privateJwk)), { issuer: "https://issuer.example.test", audience: "push" });
      expect(protectedHeader).toMatchObject({ alg: kind === "rsa" ? "RS256" : "ES256", kid: `k-${kind}` });
      expect(payload.email).toBe("a@example.test");
      expect(payload.exp! - payload.iat!).toBe(3600);
      // Another key's set does not verify it.
      await expect(jwtVerify(token, createLocalJWKSet(publicKeySet(testKey(kind))))).rejects.toThrow();
    });
  }

  it("signs an expired token when asked, and puts it in a chosen header without the Bearer prefix", async () => {
    const privateJwk = testKey("ec");
    const event = deliveryEvent({ body: "{}", sign: { scheme: "jwt", privateJwk, claims: {}, expiresInSeconds: -120, header: "X-Push-Token" } }) as Record<string, any>;
    const token = event.headers["x-push-token"] as string;
    expect(token.split(".")).toHaveLength(3);
    await expect(jwtVerify(token, createLocalJWKSet(publicKeySet(privateJwk)))).rejects.toThrow(/exp/);
  });

  it("the JWKS cache answers a URL it was given a local set for, and fetches no other", async () => {
    const privateJwk = testKey("rsa");
    const url = "https://keys.example.test/certs";
    const cache = new JwksCache({ localKeySets: { [url]: publicKeySet(privateJwk) } });
    const token = tokenOf(deliveryEvent({ body: {}, sign: { scheme: "jwt", privateJwk, claims: { aud: "a" } } }));
    await expect(jwtVerify(token, cache.get(url), { audience: "a" })).resolves.toBeDefined();
    expect(cache.get(url)).toBe(cache.get(url));
  });
});
