/**
 * The CloudFormation template (JSON) that deploys one bundle's engine: the function, its least-privilege
 * execution role, the resource policy letting managed integrations invoke it, the state table, the
 * job queue of deferred work (consumed by the function through an event source mapping with partial
 * batch responses) with its dead-letter queue and an alarm on it and, for bundles that receive
 * webhooks, a function URL; for bundles that poll (`polling`), an EventBridge Scheduler schedule and
 * its role; for bundles that buffer
 * webhook events (`webhooks.buffer`), the buffer queue, its own dead-letter queue and the event source
 * mapping through which the function consumes it.
 *
 * What the role may do is derived from the bundle: a Secrets Manager grant exists only when the engine
 * reads a secret (General Authorization destination, webhook secret kept in Secrets Manager), and then
 * only on the ARNs given as parameters. JSON rather than YAML so that no intrinsic-function tags are
 * needed and a test can walk every reference.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { STATE_TABLE_KEY, STATE_TABLE_TTL_ATTRIBUTE } from "../store/dynamodb-store.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: Record<string, JsonObject>;
  Conditions?: Record<string, Json>;
  Rules?: Record<string, JsonObject>;
  Resources: Record<string, { Type: string; Properties?: JsonObject; DependsOn?: string | string[]; Condition?: string; DeletionPolicy?: "Retain"; UpdateReplacePolicy?: "Retain" }>;
  Outputs: Record<string, { Description: string; Value: Json; Condition?: string }>;
}

/** Runtime settings of the function, in one place (README "Deploying"). */
export const FUNCTION_SETTINGS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  handler: "index.handler",
  memorySize: 512,
  // MI waits 2 s for an ACK, but hand-off jobs (long discoveries, slow commands) run in later invocations.
  timeoutSeconds: 30,
  logRetentionDays: 30,
  // Jobs that exhausted their receives land in the DLQ; 14 days to inspect them (the SQS maximum).
  dlqRetentionSeconds: 14 * 24 * 3600,
  // Job queue: Lambda requires a visibility timeout of at least the function timeout; AWS advises 6x.
  jobVisibilityTimeoutSeconds: 6 * 30,
  // Outbox events are retried for about two days (engine EVENT_JOB_MAX_ATTEMPTS, backoff capped at 15 min): keep them 4.
  jobRetentionSeconds: 4 * 24 * 3600,
  // Receives before a job moves to the DLQ: above the engine's largest attempt count (200), with room for crashed invocations.
  jobMaxReceiveCount: 210,
  jobBatchSize: 5,
  // Event buffer: Lambda requires a visibility timeout of at least the function timeout; AWS advises 6x.
  bufferVisibilityTimeoutSeconds: 6 * 30,
  bufferRetentionSeconds: 4 * 24 * 3600,
  // Receives before a buffered event moves to the buffer's dead-letter queue.
  bufferMaxReceiveCount: 5,
  bufferBatchSize: 10,
} as const;

export const MI_SERVICE_PRINCIPAL = "iotmanagedintegrations.amazonaws.com";

const ref = (name: string): Json => ({ Ref: name });
const getAtt = (resource: string, attribute: string): Json => ({ "Fn::GetAtt": [resource, attribute] });
const sub = (text: string): Json => ({ "Fn::Sub": text });

/** Facts about the bundle that decide which parameters, variables and grants the template carries. */
export interface BundleNeeds {
  /** General Authorization: the engine reads the destination secret on every request. */
  destinationSecret: boolean;
  /** Webhook verification secrets/keys: env var name and whether the variable holds a Secrets Manager ARN. */
  webhookSecrets: Array<{ env: string; secretsManager: boolean }>;
  /** Some vendor call authenticates with the OAuth client credentials (C2C_OAUTH_CLIENT_ID/SECRET). */
  clientCredentials: boolean;
  webhooks: boolean;
  /** Account values are kept (encrypted with C2C_ACCOUNT_KEY) in the state table. */
  accountKey?: boolean;
  /** Request signing: the key's environment variable, and whether the client id is part of the string. */
  signingKeyEnv?: string;
  /** The webhook event buffer: the env var that carries its queue URL. */
  buffer?: { queueUrlEnv: string };
  /** Scheduled polling (`polling`): minutes between rounds. */
  pollMinutes?: number;
}

export function bundleNeeds(bundle: CompiledBundle): BundleNeeds {
  const verify = bundle.webhooks?.verify;
  const webhookSecrets = [verify?.secret, verify?.publicKey]
    .filter((s): s is NonNullable<typeof s> => s !== undefined)
    .map((s) => ({ env: s.env, secretsManager: s.secretsManager === true }));
  return {
    destinationSecret: bundle.generalAuthorization !== undefined,
    webhookSecrets,
    clientCredentials: usesClientCredentials(bundle) || bundle.api.signing?.key.env === "C2C_OAUTH_CLIENT_SECRET",
    webhooks: bundle.webhooks !== undefined,
    // Polling keeps each user's last credential sealed with the account key.
    ...(bundle.account !== undefined || bundle.polling !== undefined ? { accountKey: true } : {}),
    ...(bundle.polling ? { pollMinutes: bundle.polling.intervalMinutes } : {}),
    ...(bundle.api.signing?.key.env && bundle.api.signing.key.env !== "C2C_OAUTH_CLIENT_SECRET" ? { signingKeyEnv: bundle.api.signing.key.env } : {}),
    ...(bundle.webhooks?.buffer ? { buffer: { queueUrlEnv: bundle.webhooks.buffer.queueUrlEnv } } : {}),
  };
}

function usesClientCredentials(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(usesClientCredentials);
  if (!node || typeof node !== "object") return false;
  const obj = node as Record<string, unknown>;
  if (typeof obj.method === "string" && obj.auth === "clientCredentials") return true;
  return Object.values(obj).some(usesClientCredentials);
}

/** CloudFormation parameter name for a webhook secret variable: C2C_WEBHOOK_SECRET -> WebhookSecretC2cWebhookSecret. */
function paramNameForEnv(env: string, secretsManager: boolean): string {
  const camel = env
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
  return `${secretsManager ? "SecretArn" : "Secret"}${camel}`;
}

const SECRET_ARN_PATTERN = "arn:aws[a-z-]*:secretsmanager:[0-9a-zA-Z-]{1,32}:\\d{12}:secret:[A-Za-z0-9/_+=.@-]{8,520}";
const SECRET_ARN_PARAMETER: JsonObject = { Type: "String", AllowedPattern: `^${SECRET_ARN_PATTERN}$` };

/**
 * What a stack update or deletion must never take along: the users' state (deactivation markers,
 * plans, account values), work not yet done and its dead letters, and the logs of what happened.
 * Deleting or replacing the stack leaves them in the account, to be removed deliberately.
 */
const RETAIN = { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" } as const;

export function deployTemplate(bundle: CompiledBundle): CloudFormationTemplate {
  const needs = bundleNeeds(bundle);
  const vendor = bundle.vendor.id;

  const Parameters: CloudFormationTemplate["Parameters"] = {
    FunctionName: {
      Type: "String",
      Default: `c2c-${vendor}`.slice(0, 64),
      AllowedPattern: "^[a-zA-Z0-9-_]{1,64}$",
      Description: "Name of the connector function.",
    },
    ArtifactBucket: { Type: "String", Description: "S3 bucket holding function.zip." },
    ArtifactKey: { Type: "String", Default: `${vendor}/function.zip`, Description: "S3 key of function.zip." },
    // A rebuilt zip under an unchanged key never reaches the function: the version pins the exact object.
    ArtifactObjectVersion: {
      Type: "String",
      Default: "",
      Description: "S3 version id of function.zip (versioned bucket; `c2c deploy` passes the uploaded version). Empty: the key alone.",
    },
    LogLevel: { Type: "String", Default: "info", AllowedValues: ["debug", "info", "warn", "error"] },
    Tracing: {
      Type: "String",
      Default: "Disabled",
      AllowedValues: ["Disabled", "Active"],
      Description: "Active: X-Ray active tracing, and the engine traces each operation with Powertools Tracer (C2C_TRACING). Off by default: the function then never loads the tracer.",
    },
    AlarmTopicArn: { Type: "String", Default: "", Description: "SNS topic told when deferred work lands in the dead-letter queue (empty: no notification)." },
  };
  const env: JsonObject = {
    C2C_STATE_TABLE: ref("StateTable"),
    // Ref of a queue is its URL.
    C2C_JOB_QUEUE_URL: ref("JobQueue"),
    C2C_LOG_LEVEL: ref("LogLevel"),
    C2C_TRACING: { "Fn::If": ["TracingActive", "true", "false"] },
  };
  const secretArns: Json[] = [];
  const Conditions: Record<string, Json> = {
    HasAlarmTopic: { "Fn::Not": [{ "Fn::Equals": [ref("AlarmTopicArn"), ""] }] },
    TracingActive: { "Fn::Equals": [ref("Tracing"), "Active"] },
    HasArtifactObjectVersion: { "Fn::Not": [{ "Fn::Equals": [ref("ArtifactObjectVersion"), ""] }] },
  };
  const Rules: Record<string, JsonObject> = {};

  if (needs.destinationSecret) {
    Parameters.DestinationSecretArn = {
      ...SECRET_ARN_PARAMETER,
      Description: "Secrets Manager secret of the connector destination (General Authorization material); the only secret the function may read.",
    };
    secretArns.push(ref("DestinationSecretArn"));
  }
  for (const secret of needs.webhookSecrets) {
    const arnName = paramNameForEnv(secret.env, true);
    if (secret.secretsManager) {
      Parameters[arnName] = { ...SECRET_ARN_PARAMETER, Description: `Secrets Manager ARN of the webhook secret (${secret.env}).` };
      secretArns.push(ref(arnName));
      env[secret.env] = ref(arnName);
      continue;
    }
    // Secrets Manager by default; the secret itself in a (NoEcho) environment variable only when
    // the deployer opts in by leaving the ARN empty and giving the value. The engine reads a
    // variable that holds a Secrets Manager ARN from Secrets Manager (engine/webhook/secret-source.ts).
    const plainName = paramNameForEnv(secret.env, false);
    const inSecretsManager = `${arnName}Given`;
    Parameters[arnName] = {
      Type: "String",
      Default: "",
      AllowedPattern: `^$|^${SECRET_ARN_PATTERN}$`,
      Description: `Secrets Manager ARN of the webhook secret (${secret.env}): the default way to pass it. The secret is its text, or JSON with a "value" field.`,
    };
    Parameters[plainName] = {
      Type: "String",
      NoEcho: true,
      Default: "",
      Description: `Opt-in alternative to ${arnName}: the webhook secret itself (${secret.env}), kept in a plaintext environment variable. Used only when ${arnName} is empty.`,
    };
    Conditions[inSecretsManager] = { "Fn::Not": [{ "Fn::Equals": [ref(arnName), ""] }] };
    Rules[`${arnName}OrPlaintext`] = {
      Assertions: [
        {
          Assert: { "Fn::Or": [{ "Fn::Not": [{ "Fn::Equals": [ref(arnName), ""] }] }, { "Fn::Not": [{ "Fn::Equals": [ref(plainName), ""] }] }] },
          AssertDescription: `Give ${arnName} (Secrets Manager) or, to opt in to a plaintext environment variable, ${plainName}.`,
        },
      ],
    };
    secretArns.push({ "Fn::If": [inSecretsManager, ref(arnName), ref("AWS::NoValue")] });
    env[secret.env] = { "Fn::If": [inSecretsManager, ref(arnName), ref(plainName)] };
  }
  if (needs.webhooks) {
    // Webhook deliveries carry no MI request, so the DEVICE_EVENTs they cause need the id here.
    Parameters.ConnectorId = {
      Type: "String",
      AllowedPattern: "^[A-Za-z0-9-_]{1,64}$",
      Description: "Id of the cloud connector (CreateCloudConnector), sent with webhook-initiated DEVICE_EVENTs.",
    };
    env.C2C_CONNECTOR_ID = ref("ConnectorId");
  }
  // Ref of a queue is its URL, which is what the engine's SQS client needs.
  if (needs.buffer) env[needs.buffer.queueUrlEnv] = ref("EventBufferQueue");
  if (needs.clientCredentials) {
    Parameters.OAuthClientId = { Type: "String", NoEcho: true, Description: "OAuth client id for client-credentials vendor calls." };
    Parameters.OAuthClientSecret = { Type: "String", NoEcho: true, Description: "OAuth client secret for client-credentials vendor calls." };
    env.C2C_OAUTH_CLIENT_ID = ref("OAuthClientId");
    env.C2C_OAUTH_CLIENT_SECRET = ref("OAuthClientSecret");
  }
  if (needs.accountKey) {
    Parameters.AccountKey = {
      Type: "String",
      NoEcho: true,
      MinLength: 32,
      Description: "Key that encrypts per-user account values in the state table (at least 32 characters, e.g. `openssl rand -base64 32`). Changing it only makes every user bootstrap once more.",
    };
    env.C2C_ACCOUNT_KEY = ref("AccountKey");
  }
  if (needs.signingKeyEnv) {
    Parameters.SigningKey = { Type: "String", NoEcho: true, Description: `Key of the vendor's request signatures (${needs.signingKeyEnv}).` };
    env[needs.signingKeyEnv] = ref("SigningKey");
  }

  const statements: Json[] = [
    {
      Sid: "ReportToManagedIntegrations",
      Effect: "Allow",
      Action: ["iotmanagedintegrations:SendConnectorEvent"],
      // SendConnectorEvent is an account-level action: IAM defines no resource type for it.
      Resource: "*",
    },
    {
      Sid: "StateTable",
      Effect: "Allow",
      // What engine/store/dynamodb-store.ts calls: conditional put, consistent get, delete.
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      Resource: getAtt("StateTable", "Arn"),
    },
    {
      Sid: "OwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: getAtt("LogGroup", "Arn"),
    },
    {
      Sid: "Enqueue",
      Effect: "Allow",
      // Deferred work (hand-offs, the event outbox) and, with an event buffer, the events MI did not take.
      Action: ["sqs:SendMessage"],
      Resource: needs.buffer ? [getAtt("JobQueue", "Arn"), getAtt("EventBufferQueue", "Arn")] : getAtt("JobQueue", "Arn"),
    },
    {
      Sid: "ConsumeQueues",
      Effect: "Allow",
      // What the SQS event source mappings do with the function's role (AWSLambdaSQSQueueExecutionRole).
      Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      Resource: needs.buffer ? [getAtt("JobQueue", "Arn"), getAtt("EventBufferQueue", "Arn")] : getAtt("JobQueue", "Arn"),
    },
    {
      Sid: "JobBackoff",
      Effect: "Allow",
      // A failed job is hidden for its backoff before SQS hands it out again.
      Action: ["sqs:ChangeMessageVisibility"],
      Resource: getAtt("JobQueue", "Arn"),
    },
  ];
  if (secretArns.length > 0) {
    const secretStatements: Json[] = [
      { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns },
      {
        Sid: "DecryptSecretsViaSecretsManager",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        // The customer-managed key is not known here; the condition limits use to decrypting through Secrets Manager.
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com") } },
      },
    ];
    // When every secret ARN is optional (webhook secrets opted out of Secrets Manager), so are the grants.
    const optional = secretArns.every((a) => typeof a === "object" && a !== null && "Fn::If" in a);
    if (!optional) statements.push(...secretStatements);
    else {
      const names = secretArns.map((a) => ((a as { "Fn::If": [string, Json, Json] })["Fn::If"][0]));
      Conditions.ReadsSecrets = names.length === 1 ? { Condition: names[0]! } : { "Fn::Or": names.map((n) => ({ Condition: n })) };
      for (const st of secretStatements) statements.push({ "Fn::If": ["ReadsSecrets", st, ref("AWS::NoValue")] });
    }
  }

  // Active tracing sends segments to X-Ray; its actions have no resource-level permissions.
  statements.push({
    "Fn::If": ["TracingActive", { Sid: "Tracing", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" }, ref("AWS::NoValue")],
  });

  const Resources: CloudFormationTemplate["Resources"] = {
    LogGroup: {
      Type: "AWS::Logs::LogGroup",
      Properties: { LogGroupName: sub("/aws/lambda/${FunctionName}"), RetentionInDays: FUNCTION_SETTINGS.logRetentionDays },
      ...RETAIN,
    },
    StateTable: {
      Type: "AWS::DynamoDB::Table",
      ...RETAIN,
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: STATE_TABLE_KEY, AttributeType: "S" }],
        KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: "HASH" }],
        TimeToLiveSpecification: { AttributeName: STATE_TABLE_TTL_ATTRIBUTE, Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    },
    DeadLetterQueue: {
      Type: "AWS::SQS::Queue",
      ...RETAIN,
      Properties: { MessageRetentionPeriod: FUNCTION_SETTINGS.dlqRetentionSeconds, SqsManagedSseEnabled: true },
    },
    JobQueue: {
      Type: "AWS::SQS::Queue",
      ...RETAIN,
      Properties: {
        VisibilityTimeout: FUNCTION_SETTINGS.jobVisibilityTimeoutSeconds,
        MessageRetentionPeriod: FUNCTION_SETTINGS.jobRetentionSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt("DeadLetterQueue", "Arn"), maxReceiveCount: FUNCTION_SETTINGS.jobMaxReceiveCount },
      },
    },
    JobQueueSourceMapping: {
      Type: "AWS::Lambda::EventSourceMapping",
      Properties: {
        EventSourceArn: getAtt("JobQueue", "Arn"),
        FunctionName: ref("Function"),
        BatchSize: FUNCTION_SETTINGS.jobBatchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      },
    },
    // A job in the DLQ is work that never finished (an event MI never took, a command never reported): someone must look.
    DeadLetterAlarm: {
      Type: "AWS::CloudWatch::Alarm",
      Properties: {
        AlarmDescription: "Deferred work of the connector exhausted its retries (see the dead-letter queue).",
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: getAtt("DeadLetterQueue", "QueueName") }],
        Statistic: "Maximum",
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
        AlarmActions: { "Fn::If": ["HasAlarmTopic", [ref("AlarmTopicArn")], ref("AWS::NoValue")] },
      },
    },
    ExecutionRole: {
      Type: "AWS::IAM::Role",
      Properties: {
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        },
        Policies: [{ PolicyName: "connector", PolicyDocument: { Version: "2012-10-17", Statement: statements } }],
      },
    },
    Function: {
      Type: "AWS::Lambda::Function",
      DependsOn: "LogGroup",
      Properties: {
        FunctionName: ref("FunctionName"),
        Description: `C2C connector engine for ${bundle.vendor.name}`.slice(0, 256),
        Runtime: FUNCTION_SETTINGS.runtime,
        Architectures: [FUNCTION_SETTINGS.architecture],
        Handler: FUNCTION_SETTINGS.handler,
        MemorySize: FUNCTION_SETTINGS.memorySize,
        Timeout: FUNCTION_SETTINGS.timeoutSeconds,
        Role: getAtt("ExecutionRole", "Arn"),
        Code: {
          S3Bucket: ref("ArtifactBucket"),
          S3Key: ref("ArtifactKey"),
          S3ObjectVersion: { "Fn::If": ["HasArtifactObjectVersion", ref("ArtifactObjectVersion"), ref("AWS::NoValue")] },
        },
        Environment: { Variables: env },
        TracingConfig: { Mode: { "Fn::If": ["TracingActive", "Active", "PassThrough"] } },
        LoggingConfig: { LogGroup: ref("LogGroup"), LogFormat: "JSON" },
      },
    },
    ManagedIntegrationsInvokePermission: {
      Type: "AWS::Lambda::Permission",
      Properties: {
        FunctionName: getAtt("Function", "Arn"),
        Action: "lambda:InvokeFunction",
        Principal: MI_SERVICE_PRINCIPAL,
        SourceAccount: ref("AWS::AccountId"),
        // Lambda matches SourceArn with ArnLike: any managed integrations resource of this account and region.
        SourceArn: sub("arn:${AWS::Partition}:iotmanagedintegrations:${AWS::Region}:${AWS::AccountId}:*"),
      },
    },
  };
  const Outputs: CloudFormationTemplate["Outputs"] = {
    FunctionArn: { Description: "ARN to register with CreateCloudConnector (EndpointConfig.lambda.arn).", Value: getAtt("Function", "Arn") },
    StateTableName: { Description: "DynamoDB table of the engine's state.", Value: ref("StateTable") },
    JobQueueUrl: { Description: "Deferred work: hand-offs and events waiting for managed integrations.", Value: ref("JobQueue") },
    DeadLetterQueueUrl: { Description: "Deferred work that exhausted its retries.", Value: ref("DeadLetterQueue") },
  };

  if (needs.webhooks) {
    // Public by design: vendor webhooks authenticate by signature, which the engine verifies.
    Resources.WebhookUrl = {
      Type: "AWS::Lambda::Url",
      Properties: { TargetFunctionArn: getAtt("Function", "Arn"), AuthType: "NONE" },
    };
    Resources.WebhookUrlPermission = {
      Type: "AWS::Lambda::Permission",
      Properties: { FunctionName: getAtt("Function", "Arn"), Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" },
    };
    // Since October 2025 a public function URL also needs lambda:InvokeFunction, limited to calls through the URL.
    Resources.WebhookUrlInvokePermission = {
      Type: "AWS::Lambda::Permission",
      Properties: { FunctionName: getAtt("Function", "Arn"), Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionUrl: true },
    };
    Outputs.WebhookUrl = { Description: "Give this URL to the vendor as the webhook endpoint.", Value: getAtt("WebhookUrl", "FunctionUrl") };
  }
  if (needs.buffer) addEventBuffer(Resources, Outputs);
  if (needs.pollMinutes !== undefined) addPollSchedule(Resources, needs.pollMinutes);

  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `C2C connector for ${bundle.vendor.name} (bundle ${bundle.source}), generated by build.mjs`,
    Parameters,
    ...(Object.keys(Rules).length > 0 ? { Rules } : {}),
    Conditions,
    Resources,
    Outputs,
  };
}

/**
 * Polling (`polling`): an EventBridge Scheduler schedule invokes the function with `{"source":"c2c.poll"}`
 * every interval; the function fans the round out per user on the job queue. The scheduler's role may
 * invoke this function only.
 */
function addPollSchedule(Resources: CloudFormationTemplate["Resources"], minutes: number): void {
  Resources.PollScheduleRole = {
    Type: "AWS::IAM::Role",
    Properties: {
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "scheduler.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ref("AWS::AccountId") } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: "invoke-connector",
          PolicyDocument: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: getAtt("Function", "Arn") }] },
        },
      ],
    },
  };
  Resources.PollSchedule = {
    Type: "AWS::Scheduler::Schedule",
    Properties: {
      Description: "Starts a poll round of the connector (bundle `polling`).",
      ScheduleExpression: `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`,
      FlexibleTimeWindow: { Mode: "OFF" },
      State: "ENABLED",
      Target: {
        Arn: getAtt("Function", "Arn"),
        RoleArn: getAtt("PollScheduleRole", "Arn"),
        Input: JSON.stringify({ source: "c2c.poll" }),
        // A missed round is not worth catching up: the next one polls everyone anyway.
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    },
  };
}

/**
 * The webhook event buffer: a queue the function writes to when MI does not take a delivery's events,
 * consumed by the same function through an event source mapping with partial batch responses; what
 * keeps failing moves to a dead-letter queue of its own (not the async-invocation DLQ, whose messages
 * are Lambda invocation records).
 */
function addEventBuffer(Resources: CloudFormationTemplate["Resources"], Outputs: CloudFormationTemplate["Outputs"]): void {
  Resources.EventBufferDeadLetterQueue = {
    Type: "AWS::SQS::Queue",
    ...RETAIN,
    Properties: { MessageRetentionPeriod: FUNCTION_SETTINGS.dlqRetentionSeconds, SqsManagedSseEnabled: true },
  };
  Resources.EventBufferQueue = {
    Type: "AWS::SQS::Queue",
    ...RETAIN,
    Properties: {
      VisibilityTimeout: FUNCTION_SETTINGS.bufferVisibilityTimeoutSeconds,
      MessageRetentionPeriod: FUNCTION_SETTINGS.bufferRetentionSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt("EventBufferDeadLetterQueue", "Arn"), maxReceiveCount: FUNCTION_SETTINGS.bufferMaxReceiveCount },
    },
  };
  Resources.EventBufferSourceMapping = {
    Type: "AWS::Lambda::EventSourceMapping",
    Properties: {
      EventSourceArn: getAtt("EventBufferQueue", "Arn"),
      FunctionName: ref("Function"),
      BatchSize: FUNCTION_SETTINGS.bufferBatchSize,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    },
  };
  Outputs.EventBufferQueueUrl = { Description: "Webhook events waiting for managed integrations.", Value: ref("EventBufferQueue") };
  Outputs.EventBufferDeadLetterQueueUrl = { Description: "Buffered webhook events that never reached managed integrations.", Value: ref("EventBufferDeadLetterQueue") };
}
