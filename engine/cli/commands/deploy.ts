/**
 * `c2c deploy <bundle>`: build, upload, secret, connector, stack, destination (engine/deploy/deploy.ts
 * says why in that order). `--dry-run` sends nothing and prints every request in order. Secrets (the
 * secret file's values, NoEcho parameters) are redacted in everything printed.
 */
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SecretRegistry } from "../../log/redact.ts";
import { resolveEventEndpoint } from "../../mi/endpoint.ts";
import { registrationRequests } from "../../registration/registration.ts";
import { awsTarget, DEFAULT_WAITER, type WaiterTiming } from "../../deploy/aws-target.ts";
import { deploy, DEPLOY_PARAMETERS, DeployError, type DeployResult, type SecretSource } from "../../deploy/deploy.ts";
import { dryRunTarget } from "../../deploy/dry-run-target.ts";
import { MiControlPlaneError } from "../../deploy/mi-control-plane.ts";
import type { DeployEndpoints, DeployRequest } from "../../deploy/requests.ts";
import { displayPath } from "../bundles.ts";
import { CliError, type CliConsole } from "../io.ts";
import { loadBundleForCommand } from "./misc.ts";

export interface DeployOptions {
  dryRun?: boolean;
  bucket?: string;
  region?: string;
  stackName?: string;
  functionName?: string;
  keyPrefix?: string;
  secretFile?: string;
  secretArn?: string;
  secretVersionId?: string;
  secretName?: string;
  kmsKeyId?: string;
  parameter?: string[];
  redirectUrl?: string;
  name?: string;
  /** Build output folder (default: dist/ of the repository). */
  out?: string;
  /** false: deploy what an earlier build left in <out>/<bundle> (build once in CI, deploy that artifact). */
  build?: boolean;
  /** Stack waiter timing (tests shorten it). */
  waiter?: WaiterTiming;
}

const PLACEHOLDER_BUCKET = "<ARTIFACT_BUCKET>";
const DEFAULT_REGION_FOR_DRY_RUN = "us-east-1";
const DIST = fileURLToPath(new URL("../../../dist/", import.meta.url));

/** `KEY=VALUE` pairs; the value may contain `=`. */
function parseParameters(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new CliError(`--parameter ${JSON.stringify(pair)}: expected KEY=VALUE`, 2);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function endpointsFrom(env: NodeJS.ProcessEnv, region: string): DeployEndpoints {
  const pick = (name: string) => env[name] || env.AWS_ENDPOINT_URL || undefined;
  return {
    region,
    s3: pick("AWS_ENDPOINT_URL_S3"),
    cloudFormation: pick("AWS_ENDPOINT_URL_CLOUDFORMATION"),
    sts: pick("AWS_ENDPOINT_URL_STS"),
    secretsManager: pick("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
    mi: resolveEventEndpoint({ region, endpoint: env.C2C_MI_ENDPOINT || undefined, useFips: env.AWS_USE_FIPS_ENDPOINT?.toLowerCase() === "true" }).url,
  };
}

export async function deployCommand(bundleArg: string, opts: DeployOptions, con: CliConsole): Promise<number> {
  const { out, err } = con;
  const env = con.env;
  const dryRun = opts.dryRun === true;
  const region = opts.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (dryRun ? DEFAULT_REGION_FOR_DRY_RUN : undefined));
  if (!region) throw new CliError("no region: pass --region or set AWS_REGION", 2);
  const bucket = opts.bucket ?? (dryRun ? PLACEHOLDER_BUCKET : undefined);
  if (!bucket) throw new CliError("no artifact bucket: pass --bucket <name> (an S3 bucket in the stack's region; versioning enabled pins the object version)", 2);
  if (opts.secretFile && opts.secretArn) throw new CliError("--secret-file and --secret-arn exclude each other: store a new secret, or use an existing one", 2);
  const parameters = parseParameters(opts.parameter);

  const { dir, bundle } = await loadBundleForCommand(bundleArg, con);
  const secrets = new SecretRegistry();

  let secret: SecretSource | undefined;
  if (opts.secretArn) secret = { kind: "existing", arn: opts.secretArn, ...(opts.secretVersionId ? { versionId: opts.secretVersionId } : {}) };
  else if (opts.secretFile) secret = { kind: "contents", name: opts.secretName ?? `c2c/${bundle.vendor.id}/destination`, secretString: await readSecretFile(opts.secretFile, con, secrets), ...(opts.kmsKeyId ? { kmsKeyId: opts.kmsKeyId } : {}) };
  else if (dryRun) {
    // What the secret must hold, as placeholders: the dry run shows the CreateSecret it would send.
    const template = registrationRequests(bundle).secretTemplate;
    secret = { kind: "contents", name: opts.secretName ?? `c2c/${bundle.vendor.id}/destination`, secretString: JSON.stringify(template), ...(opts.kmsKeyId ? { kmsKeyId: opts.kmsKeyId } : {}) };
  }

  // 0. The build: the zip and template that ship are the ones just built from the YAML.
  const outRoot = opts.out ? resolve(con.cwd, opts.out) : DIST;
  let builtDir = join(outRoot, basename(dir));
  if (opts.build !== false) {
    // Loaded here, not at import: the build pulls in esbuild, which no other command needs.
    const { buildBundle, loadBuildModules } = await import("../../../build.mjs");
    err.line(err.c.dim(`building ${displayPath(dir, con.cwd)}...`));
    try {
      builtDir = (await buildBundle(dir, outRoot, await loadBuildModules())).out;
    } catch (e) {
      throw new CliError(`build failed: ${(e as Error).message}`);
    }
  }
  let zip: Buffer;
  let templateBody: string;
  try {
    zip = await readFile(join(builtDir, "function.zip"));
    templateBody = await readFile(join(builtDir, "template.json"), "utf8");
  } catch {
    throw new CliError(`no build in ${displayPath(builtDir, con.cwd)}: run \`node build.mjs ${basename(dir)}\` first, or deploy without --no-build`);
  }
  // NoEcho parameters are secrets (webhook secrets, keys): their values are masked wherever they would print.
  try {
    const declared = (JSON.parse(templateBody) as { Parameters?: Record<string, { NoEcho?: boolean; Default?: unknown }> }).Parameters ?? {};
    for (const [k, v] of Object.entries(parameters)) if (declared[k]?.NoEcho === true) secrets.add(v);
    if (dryRun) {
      // The dry run shows the whole list even without them: placeholders, and the names said at the end.
      const needed = Object.keys(declared).filter((k) => declared[k]!.Default === undefined && parameters[k] === undefined && !(DEPLOY_PARAMETERS as readonly string[]).includes(k));
      for (const k of needed) parameters[k] = `<${k}>`;
      if (needed.length) err.line(err.c.yellow(`note: a real deploy needs ${needed.map((k) => `--parameter ${k}=...`).join(" ")}`));
    }
  } catch {
    // deploy() reports a template that is not JSON
  }
  out.line(`${opts.build === false ? "using" : "built"} ${displayPath(builtDir, con.cwd)}: function.zip ${zip.length} bytes`);

  const endpoints = endpointsFrom(env, region);
  let n = 0;
  const show = (r: DeployRequest) => {
    n++;
    out.line(secrets.scrub(`${String(n).padStart(2)}. ${out.c.bold(`${r.service} ${r.operation}`)}  ${r.method} ${r.url}`));
    if (r.body !== undefined) {
      const text = typeof r.body === "string" ? r.body : JSON.stringify(r.body, null, 2);
      for (const l of text.split("\n")) out.line(secrets.scrub(`      ${l}`));
    }
  };
  const result = (_r: DeployRequest, text: string) => out.line(secrets.scrub(`      ${out.c.green("->")} ${text}`));

  if (dryRun) {
    out.line(out.c.yellow("dry run: nothing is sent; the answers are those of a first deployment (no stack, no connector yet)"));
  }
  const target = dryRun
    ? dryRunTarget(endpoints, show)
    : awsTarget({ endpoints, env, onRequest: show, onResult: result, waiter: opts.waiter ?? DEFAULT_WAITER });

  let done: DeployResult;
  try {
    done = await deploy(
      {
        bundle,
        zip,
        templateBody,
        region,
        bucket,
        ...(opts.keyPrefix ? { keyPrefix: opts.keyPrefix } : {}),
        stackName: opts.stackName ?? `c2c-${bundle.vendor.id}`,
        functionName: opts.functionName ?? `c2c-${bundle.vendor.id}`.slice(0, 64),
        ...(secret ? { secret } : {}),
        parameters,
        ...(opts.redirectUrl ? { redirectUrl: opts.redirectUrl } : {}),
        ...(opts.name ? { connectorName: opts.name } : {}),
      },
      target,
    );
  } catch (e) {
    if (e instanceof DeployError || e instanceof MiControlPlaneError) throw new CliError(secrets.scrub(e.message));
    const name = (e as { name?: string }).name;
    // An AWS service error: its name and message say what to fix (AccessDenied, a bad parameter ...).
    if (name && (e as { $metadata?: unknown }).$metadata) throw new CliError(secrets.scrub(`${name}: ${(e as Error).message}`));
    throw e;
  }

  for (const note of done.notes) err.line(err.c.yellow(`note: ${note}`));
  if (dryRun) {
    out.line(`${n} requests. Values in <...> are what AWS answers; the function ARN is ${done.lambdaArn}.`);
    return 0;
  }
  out.line(out.c.green(`deployed ${bundle.vendor.id}: stack ${done.stack}, connector ${done.cloudConnectorId}${done.connectorCreated ? " (new)" : ""}, destination ${done.connectorDestinationId}${done.destinationCreated ? " (new)" : " (updated)"}`));
  out.line(`  function     ${done.lambdaArn}`);
  out.line(`  artifact     s3://${done.artifact.bucket}/${done.artifact.key}${done.artifact.versionId ? ` (version ${done.artifact.versionId})` : ""}`);
  out.line(secrets.scrub(`  secret       ${done.secret.arn} (version ${done.secret.versionId})`));
  if (done.outputs.WebhookUrl) out.line(`  webhook URL  ${done.outputs.WebhookUrl} (give it to the vendor)`);
  out.line(out.c.dim(`next: link an account with CreateAccountAssociation (ConnectorDestinationId ${done.connectorDestinationId})`));
  return 0;
}

/** A JSON object whose string values are secrets: they are registered for redaction before anything prints. */
async function readSecretFile(file: string, con: CliConsole, secrets: SecretRegistry): Promise<string> {
  const path = isAbsolute(file) ? file : resolve(con.cwd, file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(`--secret-file ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`--secret-file ${basename(path)}: not JSON (expected an object such as the secretTemplate of \`c2c registration\`)`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new CliError(`--secret-file ${basename(path)}: expected a JSON object`);
  for (const v of Object.values(value)) if (typeof v === "string") secrets.add(v);
  const placeholders = Object.entries(value).filter(([, v]) => typeof v === "string" && /^<[A-Z_]+>$/.test(v)).map(([k]) => k);
  if (placeholders.length) throw new CliError(`--secret-file ${basename(path)}: ${placeholders.join(", ")} still hold placeholders`);
  return JSON.stringify(value);
}
