/**
 * Turns the MI request's auth header into credentials for vendor calls: the OAuth access token
 * sent as `api.auth` declares, or General Authorization secret fields applied as
 * `generalAuthorization.apply` declares. Also client credentials for revoke endpoints.
 */
import type { CompiledBundle, CompiledCall } from "../mapping/compiled.ts";
import type { VendorCallSpec } from "../vendor/types.ts";

export type AuthMaterial =
  | { kind: "oauth"; token: string }
  | { kind: "general"; secret: Record<string, unknown> }
  | { kind: "none" };

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

export function vendorAuth(
  bundle: CompiledBundle,
  call: CompiledCall,
  material: AuthMaterial,
  env: Record<string, string | undefined> = process.env,
): VendorCallSpec["auth"] {
  if (call.auth === "none") return { kind: "none" };
  if (call.auth === "clientCredentials") {
    const username = env.C2C_OAUTH_CLIENT_ID;
    const password = env.C2C_OAUTH_CLIENT_SECRET;
    if (!username || !password) {
      throw new CredentialError(`call '${call.name}' needs client credentials: set C2C_OAUTH_CLIENT_ID and C2C_OAUTH_CLIENT_SECRET`);
    }
    return { kind: "basic", username, password };
  }
  if (material.kind === "oauth") {
    const { in: where, name, prefix } = bundle.api.auth;
    return { kind: where, name, value: `${prefix}${material.token}` };
  }
  if (material.kind === "general") {
    const apply = bundle.generalAuthorization?.apply;
    if (!apply) throw new CredentialError("this bundle declares no generalAuthorization, but MI sent a GeneralAuthorization request");
    const field = (name: string | undefined, what: string): string => {
      const v = name === undefined ? undefined : material.secret[name];
      if (typeof v !== "string" || v === "") throw new CredentialError(`the General Authorization secret has no string field '${name ?? "?"}' (${what})`);
      return v;
    };
    switch (apply.scheme) {
      case "bearer":
        return { kind: "header", name: "Authorization", value: `Bearer ${field(apply.field, "bearer token")}` };
      case "basic":
        return { kind: "basic", username: field(apply.usernameField, "user name"), password: field(apply.passwordField, "password") };
      case "apiKeyHeader":
        return { kind: "header", name: apply.name ?? "X-Api-Key", value: field(apply.field, "API key") };
      case "apiKeyQuery":
        return { kind: "query", name: apply.name ?? "api_key", value: field(apply.field, "API key") };
    }
  }
  throw new CredentialError("no credentials for a call that needs them");
}
