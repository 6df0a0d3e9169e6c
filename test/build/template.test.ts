import { describe, expect, it } from "vitest";
import { bundleNeeds, deployTemplate, FUNCTION_SETTINGS, MI_SERVICE_PRINCIPAL, type CloudFormationTemplate } from "../../engine/deploy/template.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { compiledBundle } from "../registration/bundle-fixture.ts";
import { EVENT_JOB_MAX_ATTEMPTS } from "../../engine/handler/engine.ts";
import { checkTemplate } from "./cfn-check.ts";

const oauthBundle = compiledBundle({
  oauth: { authorizationUrl: "https://a.example.com/auth", tokenUrl: "https://a.example.com/token", tokenEndpointAuthMethod: "HTTP_BASIC" },
});
const expr = (src: string) => ({ src, at: "test" });
const gaWebhookBundle: CompiledBundle = compiledBundle({
  vendor: { id: "keyco", name: "Key Co" },
  generalAuthorization: { authMaterialName: "ApiKey", apply: { scheme: "bearer", field: "token" } },
  webhooks: {
    verify: { scheme: "hmac", algorithm: "sha256", header: "X-Signature", secret: { env: "C2C_WEBHOOK_SECRET", secretsManager: true } },
    handshakes: [],
    events: expr("events"),
    deviceId: expr("deviceId"),
    state: expr("state"),
  },
});
const bufferedWebhookBundle: CompiledBundle = compiledBundle({
  vendor: { id: "bufco", name: "Buffer Co" },
  webhooks: { ...gaWebhookBundle.webhooks!, verify: { scheme: "none" }, buffer: { queueUrlEnv: "C2C_EVENT_BUFFER_URL" } },
});
/** Webhook secret named by a plain variable (no `secretsManager`): Secrets Manager by default in the template. */
const plainSecretWebhookBundle: CompiledBundle = compiledBundle({
  vendor: { id: "plainco", name: "Plain Co" },
  webhooks: { ...gaWebhookBundle.webhooks!, verify: { scheme: "hmac", algorithm: "sha256", header: "X-Signature", secret: { env: "PLAINCO_WEBHOOK_SECRET" } } },
});
const clientCredentialsBundle = compiledBundle({
  oauth: oauthBundle.oauth,
  operations: {
    ...oauthBundle.operations,
    deactivateUser: {
      requests: [{ name: "revoke", method: "POST", path: "/revoke", pathParams: {}, query: {}, headers: {}, auth: "clientCredentials", acceptStatus: [200], at: "t" }],
    },
  },
});

/**
 * Everything the function may do, and where. `*` is accepted only where the action cannot be scoped:
 *  - iotmanagedintegrations:SendConnectorEvent is an account-level action (IAM defines no resource type for it);
 *  - kms:Decrypt: the customer-managed key of the secret is not known to the template; it is limited by
 *    a kms:ViaService condition to decryption through Secrets Manager in the same region.
 */
const BASE_ACTIONS = [
  "iotmanagedintegrations:SendConnectorEvent",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:DeleteItem",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "sqs:SendMessage",
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ChangeMessageVisibility",
  // Only with the Tracing parameter Active (the statement is conditional).
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
];
const SECRET_ACTIONS = ["secretsmanager:GetSecretValue", "kms:Decrypt"];
/** What consuming the webhook event buffer takes (the same actions consume the job queue, so they are in BASE_ACTIONS). */
const BUFFER_CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"];
const WILDCARD_RESOURCE_OK = new Set(["iotmanagedintegrations:SendConnectorEvent", "kms:Decrypt", "xray:PutTraceSegments", "xray:PutTelemetryRecords"]);

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> } & Record<string, unknown>;

function roleStatements(t: CloudFormationTemplate): Statement[] {
  // The function's role; a polling bundle's scheduler role is checked in its own test.
  const roles = Object.entries(t.Resources).filter(([name, r]) => r.Type === "AWS::IAM::Role" && name !== "PollScheduleRole");
  expect(roles).toHaveLength(1);
  const props = roles[0]![1].Properties as any;
  expect(props.ManagedPolicyArns).toBeUndefined();
  // A conditional statement ({ "Fn::If": [condition, statement, AWS::NoValue] }) is checked as if granted.
  return props.Policies.flatMap((p: any) => p.PolicyDocument.Statement).map((s: any) => s["Fn::If"]?.[1] ?? s);
}

const actionsOf = (s: Statement) => [s.Action].flat();
const resourcesOf = (s: Statement) => [s.Resource].flat();

/** Where each action may point, as a predicate on one Resource entry. */
const SCOPE: Record<string, (r: any) => boolean> = {
  "dynamodb:GetItem": (r) => r?.["Fn::GetAtt"]?.[0] === "StateTable",
  "dynamodb:PutItem": (r) => r?.["Fn::GetAtt"]?.[0] === "StateTable",
  "dynamodb:DeleteItem": (r) => r?.["Fn::GetAtt"]?.[0] === "StateTable",
  "logs:CreateLogStream": (r) => r?.["Fn::GetAtt"]?.[0] === "LogGroup",
  "logs:PutLogEvents": (r) => r?.["Fn::GetAtt"]?.[0] === "LogGroup",
  "sqs:SendMessage": (r) => ["JobQueue", "EventBufferQueue"].includes(r?.["Fn::GetAtt"]?.[0]),
  "sqs:ReceiveMessage": (r) => ["JobQueue", "EventBufferQueue"].includes(r?.["Fn::GetAtt"]?.[0]),
  "sqs:DeleteMessage": (r) => ["JobQueue", "EventBufferQueue"].includes(r?.["Fn::GetAtt"]?.[0]),
  "sqs:GetQueueAttributes": (r) => ["JobQueue", "EventBufferQueue"].includes(r?.["Fn::GetAtt"]?.[0]),
  "sqs:ChangeMessageVisibility": (r) => r?.["Fn::GetAtt"]?.[0] === "JobQueue",
  "secretsmanager:GetSecretValue": (r) =>
    (typeof r?.Ref === "string" && /SecretArn/.test(r.Ref)) ||
    // An optional secret ARN: granted only when given.
    (/SecretArn/.test(r?.["Fn::If"]?.[1]?.Ref ?? "") && r["Fn::If"][2]?.Ref === "AWS::NoValue"),
  "iotmanagedintegrations:SendConnectorEvent": (r) => r === "*",
  "xray:PutTraceSegments": (r) => r === "*",
  "xray:PutTelemetryRecords": (r) => r === "*",
  "kms:Decrypt": (r) => r === "*",
};

function checkLeastPrivilege(t: CloudFormationTemplate, expected: string[]): void {
  const statements = roleStatements(t);
  const actions = statements.flatMap(actionsOf);
  expect(new Set(actions)).toEqual(new Set(expected));
  expect(actions).toHaveLength(new Set(actions).size);
  for (const s of statements) {
    expect(s.Effect).toBe("Allow");
    for (const forbidden of ["NotAction", "NotResource", "NotPrincipal"]) expect(s).not.toHaveProperty(forbidden);
    for (const action of actionsOf(s)) {
      expect(action).not.toContain("*");
      for (const resource of resourcesOf(s)) {
        if (resource === "*") expect(WILDCARD_RESOURCE_OK.has(action), `${action} on *`).toBe(true);
        expect(SCOPE[action]!(resource), `${action} on ${JSON.stringify(resource)}`).toBe(true);
      }
    }
    if (actionsOf(s).includes("kms:Decrypt")) {
      expect(s.Condition).toEqual({ StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" } } });
    }
  }
  const trust = (t.Resources.ExecutionRole!.Properties as any).AssumeRolePolicyDocument.Statement;
  expect(trust).toEqual([{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]);
}

function resourcesOfType(t: CloudFormationTemplate, type: string) {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

describe("deployTemplate", () => {
  const cases: Array<[string, CompiledBundle, string[]]> = [
    ["OAuth bundle", oauthBundle, BASE_ACTIONS],
    ["General Authorization bundle with webhooks", gaWebhookBundle, [...BASE_ACTIONS, ...SECRET_ACTIONS]],
    ["bundle with client-credentials calls", clientCredentialsBundle, BASE_ACTIONS],
    ["bundle with a webhook event buffer", bufferedWebhookBundle, BASE_ACTIONS],
    ["bundle with a plain-variable webhook secret", plainSecretWebhookBundle, [...BASE_ACTIONS, ...SECRET_ACTIONS]],
  ];

  it.each(cases)("%s: retains the state table, the queues and the log group when the stack is deleted or they are replaced", (_name, bundle) => {
    const t = deployTemplate(bundle);
    const stateful = Object.entries(t.Resources).filter(([, r]) => ["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Logs::LogGroup"].includes(r.Type));
    expect(stateful.map(([n]) => n)).toEqual(expect.arrayContaining(["StateTable", "JobQueue", "DeadLetterQueue", "LogGroup"]));
    for (const [name, r] of stateful) expect(r, name).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    // Stateless resources are replaced and deleted with the stack as usual.
    expect(t.Resources.Function).not.toHaveProperty("DeletionPolicy");
  });

  it("tracing: off by default; the Tracing parameter switches on X-Ray active tracing, C2C_TRACING and the X-Ray grant together", () => {
    const t = deployTemplate(oauthBundle);
    expect(t.Parameters.Tracing).toMatchObject({ Default: "Disabled", AllowedValues: ["Disabled", "Active"] });
    expect(t.Conditions!.TracingActive).toEqual({ "Fn::Equals": [{ Ref: "Tracing" }, "Active"] });
    const fn = t.Resources.Function!.Properties as any;
    expect(fn.TracingConfig).toEqual({ Mode: { "Fn::If": ["TracingActive", "Active", "PassThrough"] } });
    expect(fn.Environment.Variables.C2C_TRACING).toEqual({ "Fn::If": ["TracingActive", "true", "false"] });
    const statements = (t.Resources.ExecutionRole!.Properties as any).Policies[0].PolicyDocument.Statement;
    const xray = statements.find((st: any) => st["Fn::If"]?.[1]?.Sid === "Tracing");
    expect(xray["Fn::If"]).toEqual(["TracingActive", expect.objectContaining({ Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] }), { Ref: "AWS::NoValue" }]);
  });

  it("a webhook secret goes through Secrets Manager by default; a plaintext variable only by explicit opt-in", () => {
    const t = deployTemplate(plainSecretWebhookBundle);
    expect(t.Parameters.SecretArnPlaincoWebhookSecret).toMatchObject({ Default: "" });
    expect(new RegExp(t.Parameters.SecretArnPlaincoWebhookSecret!.AllowedPattern as string).test("arn:aws:secretsmanager:eu-west-1:123456789012:secret:plainco-AbCdEf")).toBe(true);
    expect(new RegExp(t.Parameters.SecretArnPlaincoWebhookSecret!.AllowedPattern as string).test("the-secret-itself")).toBe(false);
    expect(t.Parameters.SecretPlaincoWebhookSecret).toMatchObject({ NoEcho: true, Default: "" });
    expect(t.Parameters.SecretPlaincoWebhookSecret!.Description).toMatch(/opt-in/i);
    // The variable carries the ARN when one is given (the engine then reads Secrets Manager), the value only otherwise.
    const env = (t.Resources.Function!.Properties as any).Environment.Variables;
    expect(env.PLAINCO_WEBHOOK_SECRET).toEqual({ "Fn::If": ["SecretArnPlaincoWebhookSecretGiven", { Ref: "SecretArnPlaincoWebhookSecret" }, { Ref: "SecretPlaincoWebhookSecret" }] });
    // One of the two must be given: a stack without a webhook secret is refused before it is created.
    expect(t.Rules!.SecretArnPlaincoWebhookSecretOrPlaintext).toMatchObject({ Assertions: [{ Assert: { "Fn::Or": expect.any(Array) } }] });
    // The read grant exists only when the ARN is given, and then only on it.
    const statements = (t.Resources.ExecutionRole!.Properties as any).Policies[0].PolicyDocument.Statement;
    const read = statements.find((st: any) => st["Fn::If"]?.[1]?.Sid === "ReadOwnSecrets");
    expect(read["Fn::If"][0]).toBe("ReadsSecrets");
    expect(read["Fn::If"][1].Resource).toEqual([{ "Fn::If": ["SecretArnPlaincoWebhookSecretGiven", { Ref: "SecretArnPlaincoWebhookSecret" }, { Ref: "AWS::NoValue" }] }]);
    expect(t.Conditions!.ReadsSecrets).toEqual({ Condition: "SecretArnPlaincoWebhookSecretGiven" });
    // A mapping that says secretsManager keeps a required ARN, as before.
    expect(deployTemplate(gaWebhookBundle).Parameters.SecretArnC2cWebhookSecret).not.toHaveProperty("Default");
    expect(deployTemplate(gaWebhookBundle).Parameters).not.toHaveProperty("SecretC2cWebhookSecret");
  });

  it.each(cases)("%s: is valid CloudFormation syntax with intact references", (_name, bundle) => {
    const t = deployTemplate(bundle);
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    expect(checkTemplate(t)).toEqual([]);
  });

  it.each(cases)("%s: grants exactly the allowed actions, each on its own resource", (_name, bundle, expected) => {
    checkLeastPrivilege(deployTemplate(bundle), expected);
  });

  it("the reference checker catches dangling references and cycles (it can fail)", () => {
    const t = structuredClone(deployTemplate(oauthBundle)) as any;
    t.Resources.Function.Properties.Role = { "Fn::GetAtt": ["MissingRole", "Arn"] };
    t.Resources.StateTable.Properties.TableName = { Ref: "Nope" };
    t.Resources.LogGroup.Properties.LogGroupName = { "Fn::Sub": "/aws/lambda/${Function}" };
    t.Resources.Bogus = { Type: "AWS::EC2::Instance" };
    const problems = checkTemplate(t);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("GetAtt MissingRole is not a resource"),
        expect.stringContaining("Ref Nope is neither"),
        expect.stringContaining("circular dependency"),
        expect.stringContaining("unknown Type AWS::EC2::Instance"),
      ]),
    );
  });

  it("the privilege check rejects an extra action or a wildcard resource (it can fail)", () => {
    const wider = structuredClone(deployTemplate(oauthBundle)) as any;
    wider.Resources.ExecutionRole.Properties.Policies[0].PolicyDocument.Statement[2].Resource = "*";
    expect(() => checkLeastPrivilege(wider, BASE_ACTIONS)).toThrow();
    const more = structuredClone(deployTemplate(oauthBundle)) as any;
    more.Resources.ExecutionRole.Properties.Policies[0].PolicyDocument.Statement[2].Action.push("dynamodb:Scan");
    expect(() => checkLeastPrivilege(more, BASE_ACTIONS)).toThrow();
  });

  it("configures the function as specified: arm64, Node 22, 30 s, deferred work on the job queue", () => {
    const t = deployTemplate(oauthBundle);
    const fn = t.Resources.Function!.Properties as any;
    expect(fn).toMatchObject({
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 512,
      Timeout: FUNCTION_SETTINGS.timeoutSeconds,
    });
    expect(fn.Environment.Variables.C2C_STATE_TABLE).toEqual({ Ref: "StateTable" });
    expect(fn.Environment.Variables.C2C_JOB_QUEUE_URL).toEqual({ Ref: "JobQueue" });
    // No asynchronous self-invocation any more: no async config, no grant to invoke itself.
    expect(resourcesOfType(t, "AWS::Lambda::EventInvokeConfig")).toHaveLength(0);
    const table = t.Resources.StateTable!.Properties as any;
    expect(table).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
  });

  it("lets managed integrations invoke the function only from its own account's resources", () => {
    const t = deployTemplate(oauthBundle);
    const mi = resourcesOfType(t, "AWS::Lambda::Permission").filter(([, r]) => (r.Properties as any).Principal === MI_SERVICE_PRINCIPAL);
    expect(mi).toHaveLength(1);
    expect(mi[0]![1].Properties).toEqual({
      FunctionName: { "Fn::GetAtt": ["Function", "Arn"] },
      Action: "lambda:InvokeFunction",
      Principal: "iotmanagedintegrations.amazonaws.com",
      SourceAccount: { Ref: "AWS::AccountId" },
      SourceArn: { "Fn::Sub": "arn:${AWS::Partition}:iotmanagedintegrations:${AWS::Region}:${AWS::AccountId}:*" },
    });
  });

  it("exposes a public function URL only for bundles that receive webhooks, and only through the URL", () => {
    expect(resourcesOfType(deployTemplate(oauthBundle), "AWS::Lambda::Url")).toHaveLength(0);
    const t = deployTemplate(gaWebhookBundle);
    expect(resourcesOfType(t, "AWS::Lambda::Url").map(([, r]) => r.Properties)).toEqual([
      { TargetFunctionArn: { "Fn::GetAtt": ["Function", "Arn"] }, AuthType: "NONE" },
    ]);
    const publicPermissions = resourcesOfType(t, "AWS::Lambda::Permission").map(([, r]) => r.Properties as any).filter((p) => p.Principal === "*");
    expect(publicPermissions).toHaveLength(2);
    for (const p of publicPermissions) expect(p.FunctionUrlAuthType === "NONE" || p.InvokedViaFunctionUrl === true).toBe(true);
    expect(t.Outputs.WebhookUrl?.Value).toEqual({ "Fn::GetAtt": ["WebhookUrl", "FunctionUrl"] });
  });

  it("gives webhook bundles the connector id their DEVICE_EVENTs need, and only them", () => {
    const env = (t: CloudFormationTemplate) => (resourcesOfType(t, "AWS::Lambda::Function")[0][1].Properties as any).Environment.Variables;
    expect(env(deployTemplate(gaWebhookBundle)).C2C_CONNECTOR_ID).toEqual({ Ref: "ConnectorId" });
    expect(deployTemplate(gaWebhookBundle).Parameters.ConnectorId.AllowedPattern).toBe("^[A-Za-z0-9-_]{1,64}$");
    expect(env(deployTemplate(oauthBundle)).C2C_CONNECTOR_ID).toBeUndefined();
  });

  it("passes secrets as parameters: ARNs for Secrets Manager, NoEcho for values", () => {
    const t = deployTemplate(gaWebhookBundle);
    expect(Object.keys(t.Parameters)).toEqual(expect.arrayContaining(["DestinationSecretArn", "SecretArnC2cWebhookSecret"]));
    expect((t.Resources.Function!.Properties as any).Environment.Variables.C2C_WEBHOOK_SECRET).toEqual({ Ref: "SecretArnC2cWebhookSecret" });
    const cc = deployTemplate(clientCredentialsBundle);
    expect(cc.Parameters.OAuthClientSecret).toMatchObject({ NoEcho: true });
    expect(bundleNeeds(clientCredentialsBundle).clientCredentials).toBe(true);
    expect(bundleNeeds(oauthBundle)).toEqual({ destinationSecret: false, webhookSecrets: [], clientCredentials: false, webhooks: false });
  });

  it("gives a bundle with an event buffer its queue, a dead-letter queue after 5 receives, and a partial-batch event source mapping", () => {
    const t = deployTemplate(bufferedWebhookBundle);
    expect(t.Resources.EventBufferQueue!.Properties).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": ["EventBufferDeadLetterQueue", "Arn"] }, maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    expect((t.Resources.EventBufferQueue!.Properties as any).VisibilityTimeout).toBeGreaterThanOrEqual(FUNCTION_SETTINGS.timeoutSeconds);
    expect(resourcesOfType(t, "AWS::Lambda::EventSourceMapping").filter(([name]) => name !== "JobQueueSourceMapping").map(([, r]) => r.Properties)).toEqual([
      {
        EventSourceArn: { "Fn::GetAtt": ["EventBufferQueue", "Arn"] },
        FunctionName: { Ref: "Function" },
        BatchSize: 10,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      },
    ]);
    expect((t.Resources.Function!.Properties as any).Environment.Variables.C2C_EVENT_BUFFER_URL).toEqual({ Ref: "EventBufferQueue" });
    expect(bundleNeeds(bufferedWebhookBundle).buffer).toEqual({ queueUrlEnv: "C2C_EVENT_BUFFER_URL" });
  });

  it.each(cases.filter(([, b]) => !b.webhooks?.buffer))("%s: has no event buffer, its grants or its event source mapping", (_name, bundle) => {
    const t = deployTemplate(bundle);
    expect(Object.keys(t.Resources).filter((k) => k.startsWith("EventBuffer"))).toEqual([]);
    expect(resourcesOfType(t, "AWS::Lambda::EventSourceMapping").map(([name]) => name)).toEqual(["JobQueueSourceMapping"]);
    const statements = roleStatements(t);
    for (const action of [...BUFFER_CONSUMER_ACTIONS, "sqs:SendMessage"]) {
      expect(statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf)).toEqual([{ "Fn::GetAtt": ["JobQueue", "Arn"] }]);
    }
  });

  it("puts deferred work on an SQS job queue: DLQ after more receives than any job has attempts, partial batch responses, an alarm on the DLQ", () => {
    const t = deployTemplate(oauthBundle);
    const q = t.Resources.JobQueue!.Properties as any;
    expect(q).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] }, maxReceiveCount: FUNCTION_SETTINGS.jobMaxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    expect(q.RedrivePolicy.maxReceiveCount).toBeGreaterThan(EVENT_JOB_MAX_ATTEMPTS);
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(FUNCTION_SETTINGS.timeoutSeconds);
    // Outbox events keep trying for about two days; the queue must keep them at least that long.
    expect(q.MessageRetentionPeriod).toBeGreaterThanOrEqual(2 * 24 * 3600);
    expect(t.Resources.JobQueueSourceMapping!.Properties).toEqual({
      EventSourceArn: { "Fn::GetAtt": ["JobQueue", "Arn"] },
      FunctionName: { Ref: "Function" },
      BatchSize: FUNCTION_SETTINGS.jobBatchSize,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(t.Resources.DeadLetterAlarm!.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": ["DeadLetterQueue", "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });
});

describe("polling schedule", () => {
  it("a bundle with `polling` gets an EventBridge Scheduler schedule whose role may invoke this function only; others get none", async () => {
    const { loadBundleOrThrow } = await import("../../engine/mapping/bundle.ts");
    const lifx = await loadBundleOrThrow("mappings/lifx");
    const t = deployTemplate(lifx);
    expect(checkTemplate(t)).toEqual([]);
    const schedule = t.Resources.PollSchedule!.Properties as any;
    expect(t.Resources.PollSchedule!.Type).toBe("AWS::Scheduler::Schedule");
    expect(schedule.ScheduleExpression).toBe(`rate(${lifx.polling!.intervalMinutes} minutes)`);
    expect(schedule.Target).toMatchObject({ Arn: { "Fn::GetAtt": ["Function", "Arn"] }, RoleArn: { "Fn::GetAtt": ["PollScheduleRole", "Arn"] } });
    expect(JSON.parse(schedule.Target.Input)).toEqual({ source: "c2c.poll" });
    const role = t.Resources.PollScheduleRole!.Properties as any;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: "scheduler.amazonaws.com" });
    expect(role.Policies.flatMap((p: any) => p.PolicyDocument.Statement)).toEqual([{ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: { "Fn::GetAtt": ["Function", "Arn"] } }]);
    // Credentials are sealed with the account key: the template asks for one.
    expect(t.Parameters.AccountKey).toBeDefined();
    expect(Object.keys(deployTemplate(oauthBundle).Resources).filter((k) => k.startsWith("Poll"))).toEqual([]);
  });
});
