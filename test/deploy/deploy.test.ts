/**
 * `c2c deploy` (issue #16, item 4) against a real local S3 (s3rver) and loopback CloudFormation/STS,
 * Secrets Manager and managed integrations servers that answer the documented request and response
 * shapes; the real AWS SDK v3 clients and the project's SigV4 signer do the talking. Never a live account.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { cli, REPO } from "../cli/helpers.ts";
import { failedRules } from "../../engine/deploy/template-rules.ts";
import { runCli } from "../../engine/cli/main.ts";
import { startCloudFormationEmulator, type CloudFormationEmulator } from "../../engine/local/cloudformation-emulator.ts";
import { startMiControlPlaneEmulator, type MiControlPlaneEmulator } from "../../engine/local/mi-control-plane-emulator.ts";
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from "../../engine/local/secrets-manager-emulator.ts";
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from "../../engine/local/s3.ts";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { deployTemplate } from "../../engine/deploy/template.ts";
import { artifactKey, stackParameters, DeployError } from "../../engine/deploy/deploy.ts";

const BUCKET = "c2c-artifacts";
const CLIENT_SECRET = "lifx-client-secret-value-0123456789";
const CLIENT_ID = "lifx-client-id-abcdef";
/** For the template parameters deploy cannot know (webhook secrets, account key: at least 32 characters). */
const OTHER_SECRET = "deploy-test-secret-value-0123456789abcdef";

let s3: LocalS3;
let cfn: CloudFormationEmulator;
let mi: MiControlPlaneEmulator;
let sm: SecretsManagerEmulator;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "c2c-deploy-"));
  s3 = await startLocalS3([BUCKET]);
  cfn = await startCloudFormationEmulator({ inProgressPolls: 1 });
  // One key pair for every service here: s3rver only knows its own.
  mi = await startMiControlPlaneEmulator({ credentials: LOCAL_S3_CREDENTIALS });
  sm = await startSecretsManagerEmulator({ secrets: [] });
  await writeFile(join(work, "lifx-client.json"), JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
});
afterAll(async () => {
  await Promise.all([s3?.close(), cfn?.close(), mi?.close(), sm?.close()]);
  await rm(work, { recursive: true, force: true });
});

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.endpoint,
    AWS_ENDPOINT_URL_STS: cfn.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    C2C_MI_ENDPOINT: mi.url,
    ...overrides,
  };
}

async function deployCli(args: string[], e = env()) {
  let stdout = "";
  let stderr = "";
  // The emulated stack is IN_PROGRESS for one poll: a short poll keeps the waiter's pause short.
  const code = await runCli(["deploy", ...args, "--out", join(work, "dist"), "--poll-seconds", "0.05"], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: REPO,
    env: e,
  });
  return { code, stdout, stderr };
}

/** `NN. Service Operation` lines of the output, in order. */
const requestsOf = (stdout: string) => [...stdout.matchAll(/^\s*\d+\. (.+?) {2}(GET|POST|PUT|HEAD) /gm)].map((m) => m[1]);

/** Values for the template parameters deploy cannot know (webhook secrets, keys), valid for their declarations. */
async function otherParameters(bundle: string): Promise<string[]> {
  const template = deployTemplate(await loadBundleOrThrow(join(REPO, "mappings", bundle)));
  const known = new Set(["FunctionName", "ArtifactBucket", "ArtifactKey", "ArtifactObjectVersion", "DestinationSecretArn", "ConnectorId"]);
  // Required ones, and the first choice of every "this or that" rule (the webhook secret by ARN).
  const defaults = Object.fromEntries(Object.entries(template.Parameters).map(([k, d]) => [k, String(d.Default ?? "")]));
  const ruled = new Set(failedRules(template, defaults).map((f) => f.parameters[0]!));
  return Object.entries(template.Parameters)
    .filter(([k, d]) => !known.has(k) && (d.Default === undefined || ruled.has(k)))
    .map(([k, d]) => `${k}=${d.AllowedPattern ? "arn:aws:secretsmanager:us-east-1:123456789012:secret:netatmo-webhook-AbCdEf" : OTHER_SECRET}`);
}

const WRITES = ["S3 PutObject", "Secrets Manager CreateSecret", "managed integrations CreateCloudConnector", "CloudFormation CreateStack", "managed integrations CreateConnectorDestination"];

describe("c2c deploy --dry-run", () => {
  it("prints the full ordered request list for lifx, secrets redacted, and sends nothing", async () => {
    const before = { cfn: cfn.requests.length, mi: mi.requests.length, sm: sm.operations.length };
    const lifxParams = (await otherParameters("lifx")).flatMap((p) => ["--parameter", p]);
    const r = await cli(["deploy", "lifx", "--dry-run", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), ...lifxParams, "--out", join(work, "dist")]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(requestsOf(r.stdout)).toEqual([
      "STS GetCallerIdentity",
      "CloudFormation DescribeStacks",
      "S3 HeadObject",
      "S3 PutObject",
      "Secrets Manager CreateSecret",
      "Secrets Manager PutResourcePolicy",
      "managed integrations ListCloudConnectors",
      "managed integrations CreateCloudConnector",
      "CloudFormation CreateStack",
      "CloudFormation DescribeStacks",
      "CloudFormation DescribeStacks",
      "managed integrations ListConnectorDestinations",
      "managed integrations CreateConnectorDestination",
    ]);
    // Method, URL and body of each; the artifact under its content hash, pinned by its version.
    expect(r.stdout).toMatch(/S3 PutObject {2}PUT https:\/\/c2c-artifacts\.s3\.us-east-1\.amazonaws\.com\/lifx\/function-[0-9a-f]{16}\.zip/);
    expect(r.stdout).toMatch(/"ParameterKey": "ArtifactObjectVersion",\n\s+"ParameterValue": "<S3_VERSION_ID>"/);
    expect(r.stdout).toContain("POST https://api.iotmanagedintegrations.us-east-1.api.aws/cloud-connectors");
    expect(r.stdout).toContain('"arn": "arn:aws:lambda:us-east-1:<ACCOUNT_ID>:function:c2c-lifx"');
    expect(r.stdout).toContain('"tokenUrl": "https://cloud.lifx.com/oauth/token"');
    expect(r.stdout).toMatch(/"SecretString": "<redacted \d+ bytes>"/);
    for (const secret of [CLIENT_SECRET, CLIENT_ID]) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
    expect({ cfn: cfn.requests.length, mi: mi.requests.length, sm: sm.operations.length }).toEqual(before);
  }, 60_000);

  it("works with no option at all (c2c deploy lifx --dry-run), naming what a real deploy still needs", async () => {
    // Built by the test above.
    const r = await cli(["deploy", "lifx", "--dry-run", "--no-build", "--out", join(work, "dist")]);
    expect(r.code).toBe(0);
    expect(requestsOf(r.stdout)).toHaveLength(13);
    expect(r.stdout).toContain("https://<ARTIFACT_BUCKET>.s3.us-east-1.amazonaws.com/lifx/function-");
    expect(r.stdout).toMatch(/"SecretString": "<redacted \d+ bytes>"/);
    for (const p of await otherParameters("lifx")) expect(r.stderr).toContain(`--parameter ${p.split("=")[0]}=...`);
  });

  it("redacts NoEcho parameter values", async () => {
    // The opt-in plaintext webhook secret is a NoEcho parameter: its value must never be printed.
    const template = deployTemplate(await loadBundleOrThrow(join(REPO, "mappings", "netatmo")));
    const noEcho = Object.entries(template.Parameters).filter(([, d]) => d.NoEcho === true && d.Default !== undefined).map(([k]) => `${k}=${OTHER_SECRET}`);
    expect(noEcho.length).toBeGreaterThan(0);
    const params = [...(await otherParameters("netatmo")), ...noEcho];
    const r = await cli(["deploy", "netatmo", "--dry-run", ...params.flatMap((p) => ["--parameter", p]), "--out", join(work, "dist")]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(OTHER_SECRET);
    expect(r.stdout).toContain('"ParameterKey": "ConnectorId",\n            "ParameterValue": "<CLOUD_CONNECTOR_ID>"');
  }, 60_000);
});

describe("c2c deploy against local S3, CloudFormation, Secrets Manager and managed integrations", () => {
  it("deploys lifx in order, then re-deploys without doing anything twice, then updates", async () => {
    const lifxParams = (await otherParameters("lifx")).flatMap((p) => ["--parameter", p]);
    const first = await deployCli(["lifx", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), "--kms-key-id", "alias/c2c", ...lifxParams], env());
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    const order = requestsOf(first.stdout);
    // Secret, connector, stack, destination: each write after what it needs.
    const at = (op: string) => order.indexOf(op);
    for (const op of WRITES) expect(at(op), op).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < WRITES.length; i++) expect(at(WRITES[i - 1]!)).toBeLessThan(at(WRITES[i]!));
    expect(at("CloudFormation DescribeStacks")).toBeLessThan(at("S3 PutObject"));

    // The artifact: the very zip that was built, under its content-hash key.
    const client = new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, credentials: { ...LOCAL_S3_CREDENTIALS } });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    expect(keys).toHaveLength(1);
    const stored = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: keys[0] }))).Body!.transformToByteArray());
    expect(keys[0]).toBe(artifactKey("lifx", stored));
    client.destroy();

    // The secret and the policy MI needs to read it.
    const secret = sm.secrets.find((s) => s.arn.includes("c2c/lifx/destination"))!;
    expect(JSON.parse(String(secret.value))).toEqual({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    expect(JSON.parse(sm.policies.get(secret.arn)!).Statement[0].Principal).toEqual({ Service: "iotmanagedintegrations.amazonaws.com" });

    // The stack: the uploaded key; s3rver keeps no versions, so no S3ObjectVersion, and the author is told.
    const stack = cfn.stacks.get("c2c-lifx")!;
    expect(stack.status).toBe("CREATE_COMPLETE");
    expect(stack.parameters.ArtifactBucket).toBe(BUCKET);
    expect(stack.parameters.ArtifactKey).toBe(keys[0]);
    expect(stack.parameters.ArtifactObjectVersion).toBe("");
    expect(stack.capabilities).toEqual(["CAPABILITY_IAM"]);
    expect(first.stderr).toContain("is not versioned");

    // The connector points at the stack's function; the destination at the connector and the secret version.
    expect(mi.connectors).toHaveLength(1);
    expect(mi.connectors[0]!.EndpointConfig.lambda.arn).toBe("arn:aws:lambda:us-east-1:123456789012:function:c2c-lifx");
    expect(mi.destinations).toHaveLength(1);
    expect(mi.destinations[0]).toMatchObject({ CloudConnectorId: mi.connectors[0]!.Id, SecretsManager: { arn: secret.arn, versionId: secret.versionId }, AuthType: "OAUTH" });
    expect(mi.rejected).toEqual([]);
    expect(first.stdout).toContain(`connector ${mi.connectors[0]!.Id} (new)`);
    for (const s of [CLIENT_SECRET, CLIENT_ID, OTHER_SECRET]) expect(first.stdout + first.stderr).not.toContain(s);

    // Again, nothing changed: no upload, no second connector, "No updates are to be performed", the destination kept.
    // Built once: later runs deploy that artifact (--no-build), as CI would.
    const second = await deployCli(["lifx", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), "--kms-key-id", "alias/c2c", ...lifxParams], env());
    expect(second.stderr).not.toMatch(/error/i);
    expect(second.code).toBe(0);
    const again = requestsOf(second.stdout);
    expect(again).not.toContain("S3 PutObject");
    expect(again).not.toContain("managed integrations CreateCloudConnector");
    expect(again).not.toContain("managed integrations CreateConnectorDestination");
    expect(second.stdout).toContain("no updates are to be performed");
    expect(second.stdout).toContain("stack unchanged");
    expect(cfn.stacks.get("c2c-lifx")!.operations).toEqual(["CREATE"]);
    expect(mi.connectors).toHaveLength(1);
    expect(mi.destinations).toHaveLength(1);
    expect(sm.secrets.filter((s) => s.arn === secret.arn)).toHaveLength(1);
    expect(second.stdout).toContain(`unchanged: current version ${secret.versionId} kept`);

    // A changed parameter: UpdateStack, waited for until UPDATE_COMPLETE.
    const third = await deployCli(["lifx", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), "--parameter", "LogLevel=debug", ...lifxParams], env());
    expect(third.code).toBe(0);
    expect(requestsOf(third.stdout)).toContain("CloudFormation UpdateStack");
    expect(third.stdout).toContain("UPDATE_COMPLETE");
    expect(cfn.stacks.get("c2c-lifx")).toMatchObject({ status: "UPDATE_COMPLETE", operations: ["CREATE", "UPDATE"], parameters: { LogLevel: "debug" } });

    // New client credentials: a new secret version, and the destination updated to it.
    await writeFile(join(work, "lifx-client-2.json"), JSON.stringify({ clientId: CLIENT_ID, clientSecret: `${CLIENT_SECRET}-rotated` }));
    const fourth = await deployCli(["lifx", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client-2.json"), "--parameter", "LogLevel=debug", ...lifxParams], env());
    expect(fourth.code).toBe(0);
    expect(requestsOf(fourth.stdout)).toContain("Secrets Manager PutSecretValue");
    expect(requestsOf(fourth.stdout)).toContain("managed integrations UpdateConnectorDestination");
    const rotated = sm.secrets.filter((s) => s.arn === secret.arn).at(-1)!;
    expect(rotated.versionId).not.toBe(secret.versionId);
    expect(mi.destinations[0]!.SecretsManager).toEqual({ arn: secret.arn, versionId: rotated.versionId });
    expect(fourth.stdout + fourth.stderr).not.toContain(`${CLIENT_SECRET}-rotated`);
  }, 120_000);

  it("gives a webhook bundle's stack the connector id it registered, and prints the webhook URL", async () => {
    const params = await otherParameters("netatmo");
    await writeFile(join(work, "netatmo-client.json"), JSON.stringify({ clientId: "netatmo-id-1234", clientSecret: "netatmo-secret-5678" }));
    // Built by the dry run above.
    const r = await deployCli(["netatmo", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "netatmo-client.json"), ...params.flatMap((p) => ["--parameter", p])]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const connector = mi.connectors.find((c) => c.EndpointConfig.lambda.arn.endsWith(":function:c2c-netatmo"))!;
    expect(cfn.stacks.get("c2c-netatmo")!.parameters.ConnectorId).toBe(connector.Id);
    expect(r.stdout).toMatch(/webhook URL {2}https:\/\/\S+ \(give it to the vendor\)/);
    expect(r.stdout + r.stderr).not.toContain(OTHER_SECRET);
    expect(r.stdout + r.stderr).not.toContain("netatmo-secret-5678");
  }, 60_000);

  it("names every missing stack parameter before anything is written", async () => {
    const writes = () => ({
      mi: mi.requests.length,
      sm: sm.operations.length,
      cfn: cfn.requests.filter((q) => q.action !== "DescribeStacks" && q.action !== "GetCallerIdentity").length,
    });
    const before = writes();
    const missing = (await otherParameters("netatmo")).map((p) => p.split("=")[0]!);
    expect(missing.length).toBeGreaterThan(0);
    const r = await deployCli(["netatmo", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), "--stack-name", "c2c-netatmo-missing", "--function-name", "c2c-netatmo-missing"]);
    expect(r.code).toBe(1);
    for (const p of missing) expect(r.stderr).toContain(`--parameter ${p}=`);
    expect(r.stderr).toContain("nothing was changed");
    expect(requestsOf(r.stdout)).toEqual(["STS GetCallerIdentity", "CloudFormation DescribeStacks"]);
    expect(writes()).toEqual(before);
  }, 60_000);

  it("signs the managed integrations calls: a wrong key is refused by the MI server and the deploy fails with its error", async () => {
    const lifxParams = (await otherParameters("lifx")).flatMap((p) => ["--parameter", p]);
    const r = await deployCli(["lifx", "--no-build", "--bucket", BUCKET, "--secret-file", join(work, "lifx-client.json"), "--stack-name", "c2c-lifx-badkey", "--function-name", "c2c-lifx-badkey", ...lifxParams], env({ AWS_SECRET_ACCESS_KEY: "not-the-key" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ListCloudConnectors: 403 InvalidSignatureException");
    expect(cfn.stacks.has("c2c-lifx-badkey")).toBe(false);
  }, 60_000);
});

describe("deploy pieces", () => {
  it("the template pins the artifact's S3 object version when one is given, and only then", async () => {
    const t = deployTemplate(await loadBundleOrThrow(join(REPO, "mappings", "lifx")));
    expect(t.Parameters.ArtifactObjectVersion).toMatchObject({ Type: "String", Default: "" });
    const code = (t.Resources.Function!.Properties as { Code: Record<string, unknown> }).Code;
    expect(code.S3ObjectVersion).toEqual({ "Fn::If": ["HasArtifactObjectVersion", { Ref: "ArtifactObjectVersion" }, { Ref: "AWS::NoValue" }] });
    expect(t.Conditions!.HasArtifactObjectVersion).toEqual({ "Fn::Not": [{ "Fn::Equals": [{ Ref: "ArtifactObjectVersion" }, ""] }] });
  });

  it("a rebuilt zip with other bytes gets another key; the same bytes the same key", () => {
    const a = Buffer.from("zip-a");
    expect(artifactKey("acme", a)).toBe(artifactKey("acme", Buffer.from("zip-a")));
    expect(artifactKey("acme", a)).not.toBe(artifactKey("acme", Buffer.from("zip-b")));
    expect(artifactKey("acme", a, "team/")).toMatch(/^team\/acme\/function-[0-9a-f]{16}\.zip$/);
  });

  it("stack parameters: known and given values, previous values on update, missing ones named, unknown ones refused", async () => {
    const t = deployTemplate(await loadBundleOrThrow(join(REPO, "mappings", "lifx")));
    const known = { FunctionName: "f", ArtifactBucket: "b", ArtifactKey: "k" };
    const required = Object.fromEntries((await otherParameters("lifx")).map((p) => p.split("=") as [string, string]));
    const given = stackParameters(t, known, { LogLevel: "warn", ...required }, undefined);
    expect(given.slice(0, 3)).toEqual([
      { ParameterKey: "FunctionName", ParameterValue: "f" },
      { ParameterKey: "ArtifactBucket", ParameterValue: "b" },
      { ParameterKey: "ArtifactKey", ParameterValue: "k" },
    ]);
    expect(given).toContainEqual({ ParameterKey: "LogLevel", ParameterValue: "warn" });
    // Parameters with defaults that nobody gave are left out: CloudFormation applies the default.
    expect(given.map((p) => p.ParameterKey)).not.toContain("AlarmTopicArn");
    expect(stackParameters(t, known, required, { status: "UPDATE_COMPLETE", parameterKeys: ["LogLevel"], outputs: {} })).toContainEqual({ ParameterKey: "LogLevel", UsePreviousValue: true });
    expect(() => stackParameters(t, {}, {}, undefined)).toThrow(/needs values for ArtifactBucket/);
    expect(() => stackParameters(t, known, { Nope: "x" }, undefined)).toThrow(DeployError);
  });

  it("judges the template's Rules: a webhook secret by ARN or, opted in, in plaintext", async () => {
    const t = deployTemplate(await loadBundleOrThrow(join(REPO, "mappings", "netatmo")));
    const [rule] = failedRules(t, Object.fromEntries(Object.entries(t.Parameters).map(([k, d]) => [k, String(d.Default ?? "")])));
    expect(rule).toBeDefined();
    const [arnParam, plainParam] = rule!.parameters as [string, string];
    expect(t.Parameters[plainParam]!.NoEcho).toBe(true);
    const known = { FunctionName: "f", ArtifactBucket: "b", ArtifactKey: "k", ConnectorId: "c-1", DestinationSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:d-AbCdEf" };
    // Neither given: both alternatives named, nothing sent.
    expect(() => stackParameters(t, known, {}, undefined)).toThrow(new RegExp(`--parameter ${arnParam}=\\.\\.\\. or --parameter ${plainParam}=`));
    // Either one satisfies the rule; a previous value (unknown here) is not judged.
    expect(() => stackParameters(t, known, { [arnParam]: "arn:aws:secretsmanager:us-east-1:123456789012:secret:w-AbCdEf" }, undefined)).not.toThrow();
    expect(() => stackParameters(t, known, { [plainParam]: OTHER_SECRET }, undefined)).not.toThrow();
    expect(() => stackParameters(t, known, {}, { status: "UPDATE_COMPLETE", parameterKeys: [arnParam, plainParam], outputs: {} })).not.toThrow();
    expect(failedRules(t, { [arnParam]: "", [plainParam]: "" })).toHaveLength(1);
  });
});
