/**
 * `c2c deploy`: one built bundle (dist/<bundle>/function.zip and template.json) to a running,
 * registered connector, in the order the pieces depend on each other:
 *
 *   1. who and where: GetCallerIdentity (account, partition), DescribeStacks (create or update?)
 *      and every stack parameter checked, before anything is written;
 *   2. the artifact: uploaded under a content-hash key (a rebuild with other bytes is a new key),
 *      and the version S3 gave it passed as ArtifactObjectVersion (S3ObjectVersion);
 *   3. the destination secret: created or given a new version (client credentials for OAuth, the
 *      General Authorization material), with the resource policy MI needs for OAuth;
 *   4. the cloud connector (CreateCloudConnector, unless one already points at the function):
 *      before the stack, because webhook bundles need its id as the ConnectorId parameter; the
 *      function's ARN is known in advance (account, region, function name);
 *   5. the stack: created, or updated ("No updates are to be performed" is success), waited for;
 *      the function ARN it reports must be the one the connector was registered with;
 *   6. the connector destination (OAuth config or General Authorization material + secret):
 *      created, or updated to the new secret version.
 *
 * The steps talk to a DeployTarget: the AWS one sends, the dry-run one only records. Both describe
 * each request with ./requests.ts before it is made, which is what the command prints.
 */
import { failedRules } from "./template-rules.ts";
import { createHash } from "node:crypto";
import type { CompiledBundle } from "../mapping/compiled.ts";
import { registrationRequests, type CreateCloudConnectorBody, type CreateConnectorDestinationBody } from "../registration/registration.ts";
import { MI_SERVICE_PRINCIPAL, type CloudFormationTemplate } from "./template.ts";

/** What CloudFormation says about an existing stack. */
export interface StackState {
  status: string;
  parameterKeys: string[];
  outputs: Record<string, string>;
}

export interface StackChange {
  StackName: string;
  TemplateBody?: string;
  TemplateURL?: string;
  Parameters: Array<{ ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }>;
  Capabilities: Array<"CAPABILITY_IAM" | "CAPABILITY_NAMED_IAM">;
}

export interface SecretRef {
  arn: string;
  versionId: string;
}

/** The calls a deployment makes; every method describes its request (onRequest) before making it. */
export interface DeployTarget {
  callerIdentity(): Promise<{ account: string; partition: string }>;
  describeStack(stackName: string): Promise<StackState | undefined>;
  /** HeadObject, then PutObject when the key is new; the version id S3 gave the object (versioned bucket). */
  putArtifact(bucket: string, key: string, body: Buffer, sha256: string, what: string): Promise<{ versionId?: string; uploaded: boolean }>;
  /** CreateSecret; when it exists, its current version if that holds the same contents, else PutSecretValue. */
  putSecret(name: string, secretString: string, kmsKeyId: string | undefined): Promise<SecretRef>;
  currentSecretVersion(arn: string): Promise<SecretRef>;
  putSecretPolicy(arn: string, policy: object): Promise<void>;
  findCloudConnector(lambdaArn: string): Promise<string | undefined>;
  createCloudConnector(body: CreateCloudConnectorBody): Promise<string>;
  findConnectorDestination(cloudConnectorId: string, name: string): Promise<string | undefined>;
  createConnectorDestination(body: CreateConnectorDestinationBody): Promise<string>;
  updateConnectorDestination(id: string, body: Record<string, unknown>): Promise<void>;
  /** Creates or updates and waits for completion; "unchanged" for "No updates are to be performed". */
  changeStack(operation: "CreateStack" | "UpdateStack", input: StackChange, noEcho: ReadonlySet<string>): Promise<"created" | "updated" | "unchanged">;
}

export type SecretSource =
  /** An existing secret (versionId: its current version when not given). */
  | { kind: "existing"; arn: string; versionId?: string }
  /** Contents to store as the destination secret (created, or a new version of it). */
  | { kind: "contents"; name: string; secretString: string; kmsKeyId?: string };

export interface DeployInput {
  bundle: CompiledBundle;
  /** function.zip and template.json of the built bundle. */
  zip: Buffer;
  templateBody: string;
  region: string;
  bucket: string;
  /** Prefix of the artifact's key (default: none): `<prefix><vendor>/function-<sha256>.zip`. */
  keyPrefix?: string;
  stackName: string;
  functionName: string;
  secret?: SecretSource;
  /** Values for the template's other parameters (secrets, account key, ...), by name. */
  parameters?: Record<string, string>;
  redirectUrl?: string;
  connectorName?: string;
}

export interface DeployResult {
  account: string;
  lambdaArn: string;
  artifact: { bucket: string; key: string; versionId?: string; uploaded: boolean };
  secret: SecretRef;
  cloudConnectorId: string;
  connectorCreated: boolean;
  stack: "created" | "updated" | "unchanged";
  outputs: Record<string, string>;
  connectorDestinationId: string;
  destinationCreated: boolean;
  notes: string[];
}

export class DeployError extends Error {
  override readonly name = "DeployError";
}

/** The stack parameters deploy fills itself; the others come from --parameter (or keep their previous value). */
export const DEPLOY_PARAMETERS = ["FunctionName", "ArtifactBucket", "ArtifactKey", "ArtifactObjectVersion", "DestinationSecretArn", "ConnectorId"] as const;

/** CloudFormation accepts a TemplateBody up to 51,200 bytes; larger ones go through S3 (TemplateURL). */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** `<prefix><vendor>/function-<first 16 hex of sha256>.zip`: same bytes, same key; other bytes, another key. */
export function artifactKey(vendor: string, zip: Buffer, prefix = ""): string {
  return `${prefix}${vendor}/function-${sha256(zip).slice(0, 16)}.zip`;
}

/** The function's ARN, known before the stack exists: the connector is registered with it. */
export function functionArn(partition: string, region: string, account: string, functionName: string): string {
  return `arn:${partition}:lambda:${region}:${account}:function:${functionName}`;
}

/** Stack states an update can start from; others need a person (ROLLBACK_COMPLETE: delete the stack). */
const UPDATABLE = /^(CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|IMPORT_COMPLETE|IMPORT_ROLLBACK_COMPLETE)$/;

/**
 * The stack's parameters: the ones deploy knows (artifact, function, secret, connector), then the
 * caller's; on an update, the rest keep their previous values. Missing values are an error that names
 * them all, before any request that writes.
 */
export function stackParameters(
  template: CloudFormationTemplate,
  known: Record<string, string>,
  given: Record<string, string>,
  existing: StackState | undefined,
): StackChange["Parameters"] {
  const declared = template.Parameters;
  const unknown = Object.keys(given).filter((k) => !(k in declared));
  if (unknown.length) throw new DeployError(`the template has no parameter ${unknown.join(", ")} (it has: ${Object.keys(declared).join(", ")})`);
  const out: StackChange["Parameters"] = [];
  const missing: string[] = [];
  for (const [key, decl] of Object.entries(declared)) {
    const value = given[key] ?? known[key];
    if (value !== undefined) out.push({ ParameterKey: key, ParameterValue: value });
    else if (existing?.parameterKeys.includes(key)) out.push({ ParameterKey: key, UsePreviousValue: true });
    else if (decl.Default === undefined) missing.push(key);
  }
  if (missing.length) {
    throw new DeployError(
      `the stack needs values for ${missing.join(", ")}: pass --parameter ${missing.map((k) => `${k}=...`).join(" --parameter ")} (nothing was changed)`,
    );
  }
  // The template's Rules ("this parameter or that one"), judged on what the stack will get.
  const values: Record<string, string | undefined> = {};
  for (const [key, decl] of Object.entries(declared)) values[key] = decl.Default === undefined ? undefined : String(decl.Default);
  for (const p of out) values[p.ParameterKey] = p.UsePreviousValue ? undefined : p.ParameterValue;
  const failed = failedRules(template, values);
  if (failed.length) {
    const wanted = failed.map((f) => `${f.parameters.map((k) => `--parameter ${k}=...`).join(" or ")} (${f.description})`);
    throw new DeployError(`the stack needs values for ${failed.map((f) => f.parameters.join(" or ")).join(", ")}: pass ${wanted.join("; ")} (nothing was changed)`);
  }
  return out;
}

/** Resource policy letting managed integrations read the OAuth client credentials, for this account's associations only. */
export function oauthSecretPolicy(partition: string, region: string, account: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: MI_SERVICE_PRINCIPAL },
        Action: "secretsmanager:GetSecretValue",
        Resource: "*",
        // The documentation shows both `account-association:<id>` and `account-association/<id>`.
        Condition: { ArnLike: { "aws:SourceArn": `arn:${partition}:iotmanagedintegrations:${region}:${account}:account-association*` } },
      },
    ],
  };
}

export async function deploy(input: DeployInput, target: DeployTarget): Promise<DeployResult> {
  const { bundle } = input;
  const notes: string[] = [];
  let template: CloudFormationTemplate;
  try {
    template = JSON.parse(input.templateBody) as CloudFormationTemplate;
  } catch {
    throw new DeployError("template.json is not JSON; build the bundle again");
  }

  // 1. Who and where; every parameter known before anything is written.
  const { account, partition } = await target.callerIdentity();
  const lambdaArn = functionArn(partition, input.region, account, input.functionName);
  const existing = await target.describeStack(input.stackName);
  if (existing && !UPDATABLE.test(existing.status)) {
    throw new DeployError(
      existing.status === "ROLLBACK_COMPLETE"
        ? `stack ${input.stackName} is in ROLLBACK_COMPLETE (its creation failed): delete it, then deploy again`
        : `stack ${input.stackName} is in ${existing.status}; wait for it to settle, then deploy again`,
    );
  }
  if (!input.secret) {
    throw new DeployError(
      `${bundle.vendor.id} needs a destination secret: --secret-file <json> to store one (keys: see \`c2c registration ${bundle.vendor.id}\` secretTemplate) or --secret-arn <arn> for an existing one`,
    );
  }
  const key = artifactKey(bundle.vendor.id, input.zip, input.keyPrefix);
  const known: Record<string, string> = {
    FunctionName: input.functionName,
    ArtifactBucket: input.bucket,
    ArtifactKey: key,
  };
  // Checked now with stand-in values for what later steps produce; filled in for real below.
  const later = ["ArtifactObjectVersion", "DestinationSecretArn", "ConnectorId"].filter((k) => k in template.Parameters);
  stackParameters(template, { ...known, ...Object.fromEntries(later.map((k) => [k, "-"])) }, input.parameters ?? {}, existing);

  // 2. The artifact, under its content hash.
  const artifact = await target.putArtifact(input.bucket, key, input.zip, sha256(input.zip), "function.zip");
  if (artifact.versionId) known.ArtifactObjectVersion = artifact.versionId;
  else notes.push(`bucket ${input.bucket} is not versioned: the function is pinned by the content-hash key alone (enable versioning to pin the S3 object version too)`);
  let templateUrl: string | undefined;
  if (Buffer.byteLength(input.templateBody) > MAX_TEMPLATE_BODY_BYTES) {
    const templateKey = `${input.keyPrefix ?? ""}${bundle.vendor.id}/template-${sha256(input.templateBody).slice(0, 16)}.json`;
    await target.putArtifact(input.bucket, templateKey, Buffer.from(input.templateBody), sha256(input.templateBody), "template.json");
    templateUrl = `https://${input.bucket}.s3.${input.region}.amazonaws.com/${templateKey}`;
  }

  // 3. The destination secret.
  let secret: SecretRef;
  if (input.secret.kind === "existing") {
    secret = input.secret.versionId ? { arn: input.secret.arn, versionId: input.secret.versionId } : await target.currentSecretVersion(input.secret.arn);
  } else {
    if (!input.secret.kmsKeyId && bundle.oauth) notes.push("MI reads OAuth client credentials only from a secret encrypted with a customer-managed KMS key: pass --kms-key-id");
    secret = await target.putSecret(input.secret.name, input.secret.secretString, input.secret.kmsKeyId);
  }
  // Only on a secret deploy manages: an existing one's policy is its owner's (MI must be allowed there too).
  if (bundle.oauth && input.secret.kind === "contents") await target.putSecretPolicy(secret.arn, oauthSecretPolicy(partition, input.region, account));
  else if (bundle.oauth) notes.push(`the secret's resource policy must let ${MI_SERVICE_PRINCIPAL} read it (see \`c2c deploy --dry-run\`'s PutResourcePolicy)`);
  if ("DestinationSecretArn" in template.Parameters) known.DestinationSecretArn = secret.arn;

  // 4. The cloud connector, registered with the function's ARN.
  const registration = registrationRequests(bundle, {
    lambdaArn,
    secretArn: secret.arn,
    secretVersionId: secret.versionId,
    ...(input.redirectUrl ? { redirectUrl: input.redirectUrl } : {}),
    ...(input.connectorName ? { connectorName: input.connectorName } : {}),
  });
  let cloudConnectorId = await target.findCloudConnector(lambdaArn);
  const connectorCreated = cloudConnectorId === undefined;
  cloudConnectorId ??= await target.createCloudConnector(registration.createCloudConnector);
  if ("ConnectorId" in template.Parameters) known.ConnectorId = cloudConnectorId;

  // 5. The stack.
  const change: StackChange = {
    StackName: input.stackName,
    ...(templateUrl ? { TemplateURL: templateUrl } : { TemplateBody: input.templateBody }),
    Parameters: stackParameters(template, known, input.parameters ?? {}, existing),
    // The template creates its execution role (unnamed): CAPABILITY_IAM, not NAMED_IAM.
    Capabilities: ["CAPABILITY_IAM"],
  };
  const noEcho = new Set(Object.entries(template.Parameters).filter(([, d]) => d.NoEcho === true).map(([k]) => k));
  const stack = await target.changeStack(existing ? "UpdateStack" : "CreateStack", change, noEcho);
  const after = await target.describeStack(input.stackName);
  const outputs = after?.outputs ?? {};
  if (outputs.FunctionArn !== undefined && outputs.FunctionArn !== lambdaArn) {
    throw new DeployError(`the stack's function is ${outputs.FunctionArn}, but the connector was registered with ${lambdaArn}`);
  }

  // 6. The connector destination, with the secret version just written.
  const destination = registrationRequests(bundle, {
    lambdaArn,
    cloudConnectorId,
    secretArn: secret.arn,
    secretVersionId: secret.versionId,
    ...(input.redirectUrl ? { redirectUrl: input.redirectUrl } : {}),
    ...(input.connectorName ? { connectorName: input.connectorName } : {}),
  }).createConnectorDestination;
  let connectorDestinationId = await target.findConnectorDestination(cloudConnectorId, destination.Name);
  const destinationCreated = connectorDestinationId === undefined;
  if (connectorDestinationId === undefined) connectorDestinationId = await target.createConnectorDestination(destination);
  else await target.updateConnectorDestination(connectorDestinationId, destinationUpdate(destination));

  return {
    account,
    lambdaArn,
    artifact: { bucket: input.bucket, key, ...(artifact.versionId ? { versionId: artifact.versionId } : {}), uploaded: artifact.uploaded },
    secret,
    cloudConnectorId,
    connectorCreated,
    stack,
    outputs,
    connectorDestinationId,
    destinationCreated,
    notes,
  };
}

/**
 * UpdateConnectorDestination takes what may change after creation: the secret (OAuth: its new
 * version; General Authorization: the materials), the redirect and renewal settings. The OAuth URLs
 * cannot be updated; a change there needs a new destination.
 */
function destinationUpdate(d: CreateConnectorDestinationBody): Record<string, unknown> {
  const auth = d.AuthConfig;
  if ("oAuth" in auth) {
    const { oAuthCompleteRedirectUrl, proactiveRefreshTokenRenewal } = auth.oAuth;
    const oAuthUpdate = { ...(oAuthCompleteRedirectUrl ? { oAuthCompleteRedirectUrl } : {}), ...(proactiveRefreshTokenRenewal ? { proactiveRefreshTokenRenewal } : {}) };
    return {
      Name: d.Name,
      Description: d.Description,
      AuthType: "OAUTH",
      ...(Object.keys(oAuthUpdate).length ? { AuthConfig: { oAuthUpdate } } : {}),
      ...(d.SecretsManager ? { SecretsManager: d.SecretsManager } : {}),
    };
  }
  return { Name: d.Name, Description: d.Description, AuthConfig: { GeneralAuthorizationUpdate: { AuthMaterialsToUpdate: auth.GeneralAuthorization } } };
}
