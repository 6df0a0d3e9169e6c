/**
 * The DeployTarget that sends: AWS SDK v3 clients for STS, S3, Secrets Manager and CloudFormation,
 * the signed managed integrations client for the control plane. Endpoints can be overridden per
 * service (local emulators, VPC endpoints); credentials come from the SDK's default chain.
 */
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand, waitUntilStackCreateComplete, waitUntilStackUpdateComplete } from "@aws-sdk/client-cloudformation";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { randomUUID } from "node:crypto";
import type { CreateCloudConnectorBody, CreateConnectorDestinationBody } from "../registration/registration.ts";
import { environmentFirstProvider } from "../mi/client.ts";
import { DeployError, type DeployTarget, type SecretRef, type StackChange, type StackState } from "./deploy.ts";
import { MiControlPlaneClient, miRequests } from "./mi-control-plane.ts";
import { describe, type DeployEndpoints, type DeployRequest } from "./requests.ts";

export interface WaiterTiming {
  /** Seconds between DescribeStacks polls (grows up to maxDelay). */
  minDelay: number;
  maxDelay: number;
  maxWaitTime: number;
}

export const DEFAULT_WAITER: WaiterTiming = { minDelay: 5, maxDelay: 30, maxWaitTime: 3600 };

export interface AwsTargetOptions {
  endpoints: DeployEndpoints;
  env?: NodeJS.ProcessEnv;
  onRequest: (r: DeployRequest) => void;
  onResult?: (r: DeployRequest, result: string) => void;
  waiter?: WaiterTiming;
}

/** Pages of a control-plane list read before giving up on finding an existing resource. */
const MAX_LIST_PAGES = 20;


export function awsTarget(options: AwsTargetOptions): DeployTarget {
  const { endpoints, onRequest } = options;
  const onResult = options.onResult ?? (() => undefined);
  const region = endpoints.region;
  const waiter = options.waiter ?? DEFAULT_WAITER;
  // Keys in the given environment are used as they are; otherwise the SDK's default chain (profile, SSO, role).
  const env = options.env ?? process.env;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {};
  const sts = new STSClient({ region, ...credentials, ...(endpoints.sts ? { endpoint: endpoints.sts } : {}) });
  const s3 = new S3Client({ region, ...credentials, ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}) });
  const secrets = new SecretsManagerClient({ region, ...credentials, ...(endpoints.secretsManager ? { endpoint: endpoints.secretsManager } : {}) });
  const cfn = new CloudFormationClient({ region, ...credentials, ...(endpoints.cloudFormation ? { endpoint: endpoints.cloudFormation } : {}) });
  const mi = new MiControlPlaneClient({ region, endpoint: endpoints.mi.href }, environmentFirstProvider(env));

  const errorName = (e: unknown) => (e as { name?: string }).name ?? "";
  const errorStatus = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

  return {
    async callerIdentity() {
      const r = describe.getCallerIdentity(endpoints);
      onRequest(r);
      const out = await sts.send(new GetCallerIdentityCommand({}));
      if (!out.Account || !out.Arn) throw new DeployError("GetCallerIdentity answered without Account or Arn");
      onResult(r, `account ${out.Account}`);
      return { account: out.Account, partition: out.Arn.split(":")[1] ?? "aws" };
    },

    async describeStack(stackName): Promise<StackState | undefined> {
      const r = describe.describeStacks(endpoints, stackName);
      onRequest(r);
      try {
        const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const stack = out.Stacks?.[0];
        if (!stack) return undefined;
        onResult(r, `${stack.StackStatus}`);
        return {
          status: String(stack.StackStatus),
          parameterKeys: (stack.Parameters ?? []).map((p) => p.ParameterKey!).filter(Boolean),
          outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? ""])),
        };
      } catch (e) {
        if (errorName(e) === "ValidationError" && /does not exist/.test((e as Error).message)) {
          onResult(r, "no such stack: it will be created");
          return undefined;
        }
        throw e;
      }
    },

    async putArtifact(bucket, key, body, sha256, what) {
      const head = describe.headObject(endpoints, bucket, key);
      onRequest(head);
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        onResult(head, `already there${out.VersionId ? ` (version ${out.VersionId})` : ""}: not uploaded again`);
        return { ...(out.VersionId ? { versionId: out.VersionId } : {}), uploaded: false };
      } catch (e) {
        if (errorName(e) !== "NotFound" && errorStatus(e) !== 404) throw e;
      }
      const put = describe.putObject(endpoints, bucket, key, body.length, sha256, what);
      onRequest(put);
      const out = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: what.endsWith(".zip") ? "application/zip" : "application/json",
          // S3 checks the bytes it stored against this digest and refuses a corrupted upload.
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
        }),
      );
      onResult(put, out.VersionId ? `version ${out.VersionId}` : "stored (bucket without versioning)");
      return { ...(out.VersionId ? { versionId: out.VersionId } : {}), uploaded: true };
    },

    async putSecret(name, secretString, kmsKeyId): Promise<SecretRef> {
      // A random token: one derived from the contents would print a hash of the secret (guessable for a password).
      const token = randomUUID();
      const bytes = Buffer.byteLength(secretString);
      const create = describe.createSecret(endpoints, name, bytes, kmsKeyId, token);
      onRequest(create);
      try {
        const out = await secrets.send(new CreateSecretCommand({ Name: name, SecretString: secretString, ClientRequestToken: token, ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}) }));
        onResult(create, `${out.ARN} version ${out.VersionId}`);
        return { arn: out.ARN!, versionId: out.VersionId! };
      } catch (e) {
        if (errorName(e) !== "ResourceExistsException") throw e;
        onResult(create, "exists");
      }
      // Unchanged contents keep the current version (no twin versions, the destination stays as it is).
      const get = describe.getSecretValue(endpoints, name);
      onRequest(get);
      const current = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
      if (current.SecretString === secretString && current.ARN && current.VersionId) {
        onResult(get, `unchanged: current version ${current.VersionId} kept`);
        return { arn: current.ARN, versionId: current.VersionId };
      }
      onResult(get, "changed: a new version");
      const put = describe.putSecretValue(endpoints, name, bytes, token);
      onRequest(put);
      const out = await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString, ClientRequestToken: token }));
      onResult(put, `${out.ARN} version ${out.VersionId}`);
      return { arn: out.ARN!, versionId: out.VersionId! };
    },

    async currentSecretVersion(arn): Promise<SecretRef> {
      const r = describe.describeSecret(endpoints, arn);
      onRequest(r);
      const out = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
      const current = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes("AWSCURRENT"))?.[0];
      if (!current) throw new DeployError(`secret ${arn} has no AWSCURRENT version; pass --secret-version-id`);
      onResult(r, `current version ${current}`);
      return { arn: out.ARN ?? arn, versionId: current };
    },

    async putSecretPolicy(arn, policy) {
      const r = describe.putResourcePolicy(endpoints, arn, policy);
      onRequest(r);
      await secrets.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: JSON.stringify(policy) }));
      onResult(r, "ok");
    },

    async findCloudConnector(lambdaArn) {
      const request = miRequests.listCloudConnectors(lambdaArn);
      let next: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const paged = next ? { ...request, query: { ...request.query, NextToken: next } } : request;
        const r = describe.mi(endpoints, paged);
        onRequest(r);
        const out = await mi.send<{ Items?: Array<{ Id?: string; EndpointConfig?: { lambda?: { arn?: string } } }>; NextToken?: string }>(paged);
        const hit = out?.Items?.find((c) => c.EndpointConfig?.lambda?.arn === lambdaArn)?.Id;
        if (hit) {
          onResult(r, `connector ${hit} already registered for the function`);
          return hit;
        }
        next = out?.NextToken;
        if (!next) break;
      }
      onResult(describe.mi(endpoints, request), "none yet");
      return undefined;
    },

    async createCloudConnector(body: CreateCloudConnectorBody) {
      const request = miRequests.createCloudConnector(body);
      const r = describe.mi(endpoints, request);
      onRequest(r);
      const out = await mi.send<{ Id?: string }>(request);
      if (!out?.Id) throw new DeployError("CreateCloudConnector answered without an Id");
      onResult(r, `Id ${out.Id}`);
      return out.Id;
    },

    async findConnectorDestination(cloudConnectorId, name) {
      const request = miRequests.listConnectorDestinations(cloudConnectorId);
      let next: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const paged = next ? { ...request, query: { ...request.query, NextToken: next } } : request;
        const r = describe.mi(endpoints, paged);
        onRequest(r);
        const out = await mi.send<{ ConnectorDestinationList?: Array<{ Id?: string; Name?: string; CloudConnectorId?: string }>; NextToken?: string }>(paged);
        const hit = out?.ConnectorDestinationList?.find((d) => d.Name === name && d.CloudConnectorId === cloudConnectorId)?.Id;
        if (hit) {
          onResult(r, `destination ${hit} exists: it is updated`);
          return hit;
        }
        next = out?.NextToken;
        if (!next) break;
      }
      return undefined;
    },

    async createConnectorDestination(body: CreateConnectorDestinationBody) {
      const request = miRequests.createConnectorDestination(body);
      const r = describe.mi(endpoints, request);
      onRequest(r);
      const out = await mi.send<{ Id?: string }>(request);
      if (!out?.Id) throw new DeployError("CreateConnectorDestination answered without an Id");
      onResult(r, `Id ${out.Id}`);
      return out.Id;
    },

    async updateConnectorDestination(id, body) {
      const request = miRequests.updateConnectorDestination(id, body);
      const r = describe.mi(endpoints, request);
      onRequest(r);
      await mi.send(request);
      onResult(r, "updated");
    },

    async changeStack(operation, input: StackChange, noEcho) {
      const r = describe.changeStack(endpoints, operation, input, noEcho);
      onRequest(r);
      const wait = { client: cfn, ...waiter };
      if (operation === "CreateStack") {
        await cfn.send(new CreateStackCommand(input));
        await waitFor(() => waitUntilStackCreateComplete(wait, { StackName: input.StackName }), input.StackName, "creation");
        onResult(r, "CREATE_COMPLETE");
        return "created";
      }
      try {
        await cfn.send(new UpdateStackCommand(input));
      } catch (e) {
        // CloudFormation's way of saying the stack already is what was asked for.
        if (errorName(e) === "ValidationError" && /No updates are to be performed/.test((e as Error).message)) {
          onResult(r, "no updates are to be performed: the stack is up to date");
          return "unchanged";
        }
        throw e;
      }
      await waitFor(() => waitUntilStackUpdateComplete(wait, { StackName: input.StackName }), input.StackName, "update");
      onResult(r, "UPDATE_COMPLETE");
      return "updated";
    },
  };
}

/** The waiters throw on failure and timeout with the last state in the message: said as a deploy error. */
async function waitFor(run: () => Promise<unknown>, stackName: string, what: string): Promise<void> {
  try {
    await run();
  } catch (e) {
    throw new DeployError(`stack ${stackName}: ${what} did not complete: ${(e as Error).message.split("\n")[0]}`);
  }
}
