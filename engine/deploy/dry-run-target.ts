/**
 * The DeployTarget of `c2c deploy --dry-run`: sends nothing and needs no credentials. It describes
 * every request as the AWS target would (./requests.ts), answering as a first deployment would be
 * answered (no stack, no connector, nothing uploaded yet), with `<PLACEHOLDER>` values for what only
 * AWS can tell (account, version ids, connector id).
 */
import type { DeployTarget } from "./deploy.ts";
import { miRequests } from "./mi-control-plane.ts";
import { describe, type DeployEndpoints, type DeployRequest } from "./requests.ts";

export const DRY_RUN_VALUES = {
  account: "<ACCOUNT_ID>",
  s3VersionId: "<S3_VERSION_ID>",
  secretArn: "<SECRET_ARN>",
  secretVersionId: "<SECRET_VERSION_ID>",
  cloudConnectorId: "<CLOUD_CONNECTOR_ID>",
  connectorDestinationId: "<CONNECTOR_DESTINATION_ID>",
} as const;

export function dryRunTarget(endpoints: DeployEndpoints, onRequest: (r: DeployRequest) => void): DeployTarget {
  return {
    async callerIdentity() {
      onRequest(describe.getCallerIdentity(endpoints));
      return { account: DRY_RUN_VALUES.account, partition: "aws" };
    },
    async describeStack(stackName) {
      onRequest(describe.describeStacks(endpoints, stackName));
      return undefined;
    },
    async putArtifact(bucket, key, body, sha256, what) {
      onRequest(describe.headObject(endpoints, bucket, key));
      onRequest(describe.putObject(endpoints, bucket, key, body.length, sha256, what));
      return { versionId: DRY_RUN_VALUES.s3VersionId, uploaded: true };
    },
    async putSecret(name, secretString, kmsKeyId) {
      onRequest(describe.createSecret(endpoints, name, Buffer.byteLength(secretString), kmsKeyId, "<random UUID>"));
      return { arn: DRY_RUN_VALUES.secretArn, versionId: DRY_RUN_VALUES.secretVersionId };
    },
    async currentSecretVersion(arn) {
      onRequest(describe.describeSecret(endpoints, arn));
      return { arn, versionId: DRY_RUN_VALUES.secretVersionId };
    },
    async putSecretPolicy(arn, policy) {
      onRequest(describe.putResourcePolicy(endpoints, arn, policy));
    },
    async findCloudConnector(lambdaArn) {
      onRequest(describe.mi(endpoints, miRequests.listCloudConnectors(lambdaArn)));
      return undefined;
    },
    async createCloudConnector(body) {
      onRequest(describe.mi(endpoints, miRequests.createCloudConnector(body)));
      return DRY_RUN_VALUES.cloudConnectorId;
    },
    async findConnectorDestination(cloudConnectorId) {
      onRequest(describe.mi(endpoints, miRequests.listConnectorDestinations(cloudConnectorId)));
      return undefined;
    },
    async createConnectorDestination(body) {
      onRequest(describe.mi(endpoints, miRequests.createConnectorDestination(body)));
      return DRY_RUN_VALUES.connectorDestinationId;
    },
    async updateConnectorDestination(id, body) {
      onRequest(describe.mi(endpoints, miRequests.updateConnectorDestination(id, body)));
    },
    async changeStack(operation, input, noEcho) {
      onRequest(describe.changeStack(endpoints, operation, input, noEcho));
      // Then the waiter polls DescribeStacks until *_COMPLETE.
      onRequest(describe.describeStacks(endpoints, input.StackName));
      return "created";
    },
  };
}
