/**
 * Semantic checks of the account capabilities: hosts from data need `api.allowedHosts`, static
 * hosts must be among them, `{settings.x}` in OAuth URLs must name a setting, and a signing key
 * must come from somewhere the bundle declares.
 */
import { hostAllowed } from "../vendor/allowed-hosts.ts";
import { tryUrl } from "../vendor/url.ts";
import { isRecord } from "./calls.ts";
import type { Segment } from "./diagnostics.ts";
import { settingPlaceholders } from "./compile.ts";

type Json = Record<string, unknown>;

export interface AccountCheckReporter {
  error(path: Segment[], rule: string, message: string, hint?: string): void;
}

export function checkAccountCapabilities(doc: Json, report: AccountCheckReporter): void {
  const api = isRecord(doc.api) ? doc.api : {};
  const allowed = Array.isArray(api.allowedHosts) ? (api.allowedHosts.filter((h) => typeof h === "string") as string[]) : undefined;

  // Every place a base URL or host can come from data.
  const dynamic: Segment[][] = [];
  if (typeof api.baseUrlFrom === "string") dynamic.push(["api", "baseUrlFrom"]);
  const headerMaps: Array<[unknown, Segment[]]> = [[api.dynamicHeaders, ["api", "dynamicHeaders"]]];
  const staticUrls: Array<[string, Segment[]]> = [];
  if (typeof api.baseUrl === "string") staticUrls.push([api.baseUrl, ["api", "baseUrl"]]);
  forEachCall(doc, (call, path) => {
    if (typeof call.baseUrlFrom === "string") dynamic.push([...path, "baseUrlFrom"]);
    if (typeof call.baseUrl === "string") staticUrls.push([call.baseUrl, [...path, "baseUrl"]]);
    headerMaps.push([call.headers, [...path, "headers"]]);
  });
  for (const [map, path] of headerMaps) {
    if (!isRecord(map)) continue;
    for (const key of Object.keys(map)) if (key.toLowerCase() === "host") dynamic.push([...path, key]);
  }
  if (!allowed) {
    for (const path of dynamic) {
      report.error(path, "mapping/host-needs-allowed-hosts", "a base URL or Host header from an expression needs `api.allowedHosts`", "declare the vendor's hosts, e.g. `allowedHosts: ['*.vendor.example']`");
    }
  } else {
    for (const [url, path] of staticUrls) {
      const u = tryUrl(url);
      if (u && !hostAllowed(u.host, allowed) && !hostAllowed(u.hostname, allowed)) {
        report.error(path, "mapping/host-not-allowed", `host ${u.host} is not in api.allowedHosts`, "add it to `api.allowedHosts`");
      }
    }
  }

  const settings = isRecord(doc.settings) ? doc.settings : {};
  const oauth = isRecord(doc.oauth) ? doc.oauth : undefined;
  for (const key of ["authorizationUrl", "tokenUrl"] as const) {
    const url = oauth?.[key];
    if (typeof url !== "string") continue;
    for (const name of settingPlaceholders(url)) {
      const v = settings[name];
      if (typeof v !== "string" && typeof v !== "number") {
        report.error(["oauth", key], "mapping/unknown-setting", `{settings.${name}} names no string or number setting`, `add \`${name}\` under \`settings\``);
      }
    }
  }

  const signing = isRecord(api.signing) ? api.signing : undefined;
  const key = signing && isRecord(signing.key) ? signing.key : undefined;
  if (key) {
    const values = isRecord(doc.account) && isRecord(doc.account.values) ? doc.account.values : {};
    if (typeof key.account === "string" && !(key.account in values)) {
      report.error(["api", "signing", "key", "account"], "mapping/unknown-account-value", `account value '${key.account}' is not declared`, "declare it under `account.values`");
    }
    if (typeof key.secretField === "string" && !isRecord(doc.generalAuthorization)) {
      report.error(["api", "signing", "key", "secretField"], "mapping/signing-key-without-secret", "a signing key from the General Authorization secret needs `generalAuthorization`");
    }
  }
}

/** Every call site of the document (named calls, operations, bootstrap, commands, writes). */
function forEachCall(doc: Json, visit: (call: Json, path: Segment[]) => void): void {
  const walk = (value: unknown, path: Segment[]): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (isRecord(value)) {
      if (typeof value.method === "string" || typeof value.use === "string" || "baseUrlFrom" in value) visit(value, path);
      for (const [k, v] of Object.entries(value)) if (typeof v === "object" && v !== null) walk(v, [...path, k]);
    }
  };
  walk(doc.calls, ["calls"]);
  walk(doc.operations, ["operations"]);
  walk(doc.account, ["account"]);
  walk(doc.profiles, ["profiles"]);
}
