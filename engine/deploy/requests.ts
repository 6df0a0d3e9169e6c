/**
 * Every request of a deployment as something to print: service, operation, HTTP method, URL and the
 * body with secrets redacted. Both the dry run and the real run describe their requests with these
 * functions, so what `--dry-run` prints is what a deployment sends.
 */
import { miUrl, type MiRequest } from "./mi-control-plane.ts";

export interface DeployRequest {
  service: "STS" | "S3" | "Secrets Manager" | "CloudFormation" | "managed integrations";
  operation: string;
  method: string;
  url: string;
  /** What is sent, secrets replaced by `<redacted ...>`. */
  body?: unknown;
}

/** Where each service is reached: the public endpoints, or overrides (local emulators, VPC endpoints). */
export interface DeployEndpoints {
  region: string;
  s3?: string;
  cloudFormation?: string;
  sts?: string;
  secretsManager?: string;
  /** Base URL of managed integrations (also what the signer signs for). */
  mi: URL;
}

const redacted = (what: string) => `<redacted ${what}>`;

const base = (override: string | undefined, host: string) => (override ?? `https://${host}`).replace(/\/+$/, "");

/** AWS query protocol (STS, CloudFormation): POST / with a form body; shown as its parameters. */
function queryRequest(service: "STS" | "CloudFormation", url: string, operation: string, body: unknown): DeployRequest {
  return { service, operation, method: "POST", url: `${url}/`, body };
}

export const describe = {
  getCallerIdentity: (e: DeployEndpoints) => queryRequest("STS", base(e.sts, `sts.${e.region}.amazonaws.com`), "GetCallerIdentity", {}),

  describeStacks: (e: DeployEndpoints, stackName: string) =>
    queryRequest("CloudFormation", base(e.cloudFormation, `cloudformation.${e.region}.amazonaws.com`), "DescribeStacks", { StackName: stackName }),

  /** Create or update: parameters whose template declaration is NoEcho are redacted. */
  changeStack: (
    e: DeployEndpoints,
    operation: "CreateStack" | "UpdateStack",
    input: { StackName: string; TemplateBody?: string; TemplateURL?: string; Parameters: Array<{ ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }>; Capabilities: string[] },
    noEcho: ReadonlySet<string>,
  ) =>
    queryRequest("CloudFormation", base(e.cloudFormation, `cloudformation.${e.region}.amazonaws.com`), operation, {
      StackName: input.StackName,
      ...(input.TemplateBody !== undefined ? { TemplateBody: `<template.json, ${Buffer.byteLength(input.TemplateBody)} bytes>` } : { TemplateURL: input.TemplateURL }),
      Parameters: input.Parameters.map((p) => (noEcho.has(p.ParameterKey) && p.ParameterValue !== undefined ? { ...p, ParameterValue: redacted("NoEcho parameter") } : p)),
      Capabilities: input.Capabilities,
    }),

  headObject: (e: DeployEndpoints, bucket: string, key: string): DeployRequest => ({ service: "S3", operation: "HeadObject", method: "HEAD", url: s3Url(e, bucket, key) }),

  putObject: (e: DeployEndpoints, bucket: string, key: string, bytes: number, sha256: string, what: string): DeployRequest => ({
    service: "S3",
    operation: "PutObject",
    method: "PUT",
    url: s3Url(e, bucket, key),
    body: `<${what}, ${bytes} bytes, sha256 ${sha256}>`,
  }),

  createSecret: (e: DeployEndpoints, name: string, bytes: number, kmsKeyId: string | undefined, token: string) =>
    secretsRequest(e, "CreateSecret", { Name: name, SecretString: redacted(`${bytes} bytes`), ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}), ClientRequestToken: token }),

  putSecretValue: (e: DeployEndpoints, secretId: string, bytes: number, token: string) =>
    secretsRequest(e, "PutSecretValue", { SecretId: secretId, SecretString: redacted(`${bytes} bytes`), ClientRequestToken: token }),

  describeSecret: (e: DeployEndpoints, secretId: string) => secretsRequest(e, "DescribeSecret", { SecretId: secretId }),

  /** Read back only to compare with the file; the answer is never printed. */
  getSecretValue: (e: DeployEndpoints, secretId: string) => secretsRequest(e, "GetSecretValue", { SecretId: secretId }),

  putResourcePolicy: (e: DeployEndpoints, secretId: string, policy: unknown) => secretsRequest(e, "PutResourcePolicy", { SecretId: secretId, ResourcePolicy: policy }),

  mi: (e: DeployEndpoints, r: MiRequest): DeployRequest => ({
    service: "managed integrations",
    operation: r.operation,
    method: r.method,
    url: miUrl(e.mi, r),
    ...(r.body !== undefined ? { body: r.body } : {}),
  }),
};

function secretsRequest(e: DeployEndpoints, operation: string, body: unknown): DeployRequest {
  return { service: "Secrets Manager", operation, method: "POST", url: `${base(e.secretsManager, `secretsmanager.${e.region}.amazonaws.com`)}/`, body };
}

/** Virtual-hosted style on AWS; path style on an override (a local S3 has no bucket subdomains). */
function s3Url(e: DeployEndpoints, bucket: string, key: string): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  if (e.s3) return `${e.s3.replace(/\/+$/, "")}/${bucket}/${path}`;
  return `https://${bucket}.s3.${e.region}.amazonaws.com/${path}`;
}
