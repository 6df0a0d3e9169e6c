/**
 * A loopback stand-in for the two AWS query-protocol APIs `c2c deploy` calls, CloudFormation
 * (CreateStack, UpdateStack, DescribeStacks) and STS (GetCallerIdentity), so the real SDK clients run
 * against it: form-encoded POST bodies in, the documented XML out (CloudFormation API Reference,
 * 2010-05-15; STS, 2011-06-15), errors as `<ErrorResponse>` with the documented codes. It checks
 * what CloudFormation checks before it starts work: the template parses, every parameter without a
 * default has a value (or UsePreviousValue on update), values match AllowedPattern / AllowedValues,
 * IAM resources need CAPABILITY_IAM, and "No updates are to be performed." when nothing changed.
 * It deploys nothing: a stack reports IN_PROGRESS for `inProgressPolls` DescribeStacks, then
 * COMPLETE, with the outputs the real stack would have for the function (FunctionArn).
 */
import { failedRules } from "../deploy/template-rules.ts";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, readTextBody } from "./loopback.ts";

export interface EmulatedStack {
  name: string;
  id: string;
  status: string;
  template: any;
  templateBody: string;
  parameters: Record<string, string>;
  capabilities: string[];
  /** DescribeStacks answers left before the current operation completes. */
  pollsLeft: number;
  /** Every CreateStack / UpdateStack that started work. */
  operations: Array<"CREATE" | "UPDATE">;
}

export interface QueryRequest {
  action: string;
  params: Record<string, string>;
}

export interface CloudFormationEmulator {
  /** http://127.0.0.1:<port>: the endpoint of both the CloudFormation and the STS client. */
  endpoint: string;
  stacks: Map<string, EmulatedStack>;
  /** Every request, in order (Action and the form parameters). */
  requests: QueryRequest[];
  close(): Promise<void>;
}

export interface CloudFormationEmulatorOptions {
  region?: string;
  account?: string;
  /** DescribeStacks answers that still say *_IN_PROGRESS after a create or update (default 1). */
  inProgressPolls?: number;
  /** Template bodies fetched by TemplateURL (an S3 URL): the emulator asks this function. */
  fetchTemplate?: (url: string) => Promise<string>;
}

const CFN_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const IAM_TYPES = /^AWS::IAM::/;

class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export async function startCloudFormationEmulator(options: CloudFormationEmulatorOptions = {}): Promise<CloudFormationEmulator> {
  const region = options.region ?? "us-east-1";
  const account = options.account ?? "123456789012";
  const inProgressPolls = options.inProgressPolls ?? 1;
  const stacks = new Map<string, EmulatedStack>();
  const requests: QueryRequest[] = [];

  const stackArn = (name: string) => `arn:aws:cloudformation:${region}:${account}:stack/${name}/${randomUUID()}`;

  async function templateOf(p: Record<string, string>): Promise<{ body: string; template: any }> {
    let body = p.TemplateBody;
    if (body === undefined && p.TemplateURL !== undefined) {
      if (!options.fetchTemplate) throw new QueryError("ValidationError", "TemplateURL cannot be read by this emulator");
      body = await options.fetchTemplate(p.TemplateURL);
    }
    if (body === undefined) throw new QueryError("ValidationError", "Either Template URL or Template Body must be specified.");
    try {
      return { body, template: JSON.parse(body) };
    } catch {
      throw new QueryError("ValidationError", "Template format error: JSON not well-formed.");
    }
  }

  /** Parameters.member.N.{ParameterKey,ParameterValue,UsePreviousValue}, checked against the template. */
  function parametersOf(p: Record<string, string>, template: any, previous?: Record<string, string>): Record<string, string> {
    const given: Record<string, string> = {};
    for (let i = 1; p[`Parameters.member.${i}.ParameterKey`] !== undefined; i++) {
      const key = p[`Parameters.member.${i}.ParameterKey`]!;
      if (p[`Parameters.member.${i}.UsePreviousValue`] === "true") {
        if (!previous || previous[key] === undefined) throw new QueryError("ValidationError", `Parameter ${key} has no previous value`);
        given[key] = previous[key]!;
      } else given[key] = p[`Parameters.member.${i}.ParameterValue`] ?? "";
    }
    const declared = (template.Parameters ?? {}) as Record<string, { Default?: string; AllowedPattern?: string; AllowedValues?: string[]; MinLength?: number }>;
    for (const key of Object.keys(given)) {
      if (!(key in declared)) throw new QueryError("ValidationError", `Parameters: [${key}] do not exist in the template`);
    }
    const missing = Object.keys(declared).filter((k) => given[k] === undefined && declared[k]!.Default === undefined);
    if (missing.length) throw new QueryError("ValidationError", `Parameters: [${missing.join(", ")}] must have values`);
    const values: Record<string, string> = {};
    for (const [key, decl] of Object.entries(declared)) {
      const value = given[key] ?? String(decl.Default);
      if (decl.AllowedPattern && !new RegExp(decl.AllowedPattern).test(value)) {
        throw new QueryError("ValidationError", `Parameter '${key}' must match pattern ${decl.AllowedPattern}`);
      }
      if (decl.AllowedValues && !decl.AllowedValues.includes(value)) {
        throw new QueryError("ValidationError", `Parameter '${key}' must be one of AllowedValues`);
      }
      if (decl.MinLength !== undefined && value.length < decl.MinLength) {
        throw new QueryError("ValidationError", `Parameter '${key}' must contain at least ${decl.MinLength} characters`);
      }
      values[key] = value;
    }
    const failed = failedRules(template, values);
    if (failed.length) throw new QueryError("ValidationError", failed.map((f) => f.description).join(" "));
    return values;
  }

  function capabilitiesOf(p: Record<string, string>, template: any): string[] {
    const caps: string[] = [];
    for (let i = 1; p[`Capabilities.member.${i}`] !== undefined; i++) caps.push(p[`Capabilities.member.${i}`]!);
    const needsIam = Object.values((template.Resources ?? {}) as Record<string, { Type: string }>).some((r) => IAM_TYPES.test(r.Type));
    if (needsIam && !caps.includes("CAPABILITY_IAM") && !caps.includes("CAPABILITY_NAMED_IAM")) {
      throw new QueryError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]");
    }
    return caps;
  }

  function outputsOf(stack: EmulatedStack): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const key of Object.keys(stack.template.Outputs ?? {})) {
      // What the real stack would answer for the function; the other outputs name emulated resources.
      if (key === "FunctionArn") out.push([key, `arn:aws:lambda:${region}:${account}:function:${stack.parameters.FunctionName}`]);
      else if (key === "WebhookUrl") out.push([key, `https://${stack.name.toLowerCase()}.lambda-url.${region}.on.aws/`]);
      else out.push([key, `emulated-${key}`]);
    }
    return out;
  }

  async function handleAction(action: string, p: Record<string, string>): Promise<string> {
    switch (action) {
      case "GetCallerIdentity":
        return `<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/deployer</Arn><UserId>AIDAEMULATEDDEPLOYER</UserId><Account>${account}</Account></GetCallerIdentityResult>${metadata()}</GetCallerIdentityResponse>`;
      case "CreateStack": {
        const name = required(p, "StackName");
        if (stacks.has(name)) throw new QueryError("AlreadyExistsException", `Stack [${name}] already exists`);
        const { body, template } = await templateOf(p);
        const parameters = parametersOf(p, template);
        const capabilities = capabilitiesOf(p, template);
        const stack: EmulatedStack = { name, id: stackArn(name), status: "CREATE_IN_PROGRESS", template, templateBody: body, parameters, capabilities, pollsLeft: inProgressPolls, operations: ["CREATE"] };
        stacks.set(name, stack);
        return `<CreateStackResponse xmlns="${CFN_NS}"><CreateStackResult><StackId>${xml(stack.id)}</StackId></CreateStackResult>${metadata()}</CreateStackResponse>`;
      }
      case "UpdateStack": {
        const name = required(p, "StackName");
        const stack = stacks.get(name);
        if (!stack) throw new QueryError("ValidationError", `Stack [${name}] does not exist`);
        if (stack.status.endsWith("_IN_PROGRESS")) throw new QueryError("ValidationError", `Stack:${stack.id} is in ${stack.status} state and can not be updated.`);
        const { body, template } = await templateOf(p);
        const parameters = parametersOf(p, template, stack.parameters);
        const capabilities = capabilitiesOf(p, template);
        if (body === stack.templateBody && JSON.stringify(parameters) === JSON.stringify(stack.parameters)) {
          throw new QueryError("ValidationError", "No updates are to be performed.");
        }
        Object.assign(stack, { status: "UPDATE_IN_PROGRESS", template, templateBody: body, parameters, capabilities, pollsLeft: inProgressPolls });
        stack.operations.push("UPDATE");
        return `<UpdateStackResponse xmlns="${CFN_NS}"><UpdateStackResult><StackId>${xml(stack.id)}</StackId></UpdateStackResult>${metadata()}</UpdateStackResponse>`;
      }
      case "DescribeStacks": {
        const name = required(p, "StackName");
        const stack = stacks.get(name);
        if (!stack) throw new QueryError("ValidationError", `Stack with id ${name} does not exist`);
        if (stack.status.endsWith("_IN_PROGRESS")) {
          if (stack.pollsLeft > 0) stack.pollsLeft--;
          else stack.status = stack.status.replace("_IN_PROGRESS", "_COMPLETE");
        }
        const params = Object.entries(stack.parameters)
          .map(([k, v]) => `<member><ParameterKey>${xml(k)}</ParameterKey><ParameterValue>${xml(noEcho(stack, k) ? "****" : v)}</ParameterValue></member>`)
          .join("");
        const outputs = stack.status.endsWith("_COMPLETE")
          ? outputsOf(stack).map(([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`).join("")
          : "";
        const caps = stack.capabilities.map((c) => `<member>${xml(c)}</member>`).join("");
        return `<DescribeStacksResponse xmlns="${CFN_NS}"><DescribeStacksResult><Stacks><member><StackName>${xml(stack.name)}</StackName><StackId>${xml(stack.id)}</StackId><CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>${stack.status}</StackStatus><Parameters>${params}</Parameters><Capabilities>${caps}</Capabilities><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult>${metadata()}</DescribeStacksResponse>`;
      }
      default:
        throw new QueryError("InvalidAction", `The action ${action} is not valid for this web service.`);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let action = "";
    readTextBody(req)
      .then(async (text) => {
        const params = Object.fromEntries(new URLSearchParams(text));
        action = params.Action ?? "";
        requests.push({ action, params });
        if (req.method !== "POST") throw new QueryError("InvalidAction", "only POST is emulated");
        if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? "")) throw new QueryError("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
        send(res, 200, await handleAction(action, params));
      })
      .catch((err: unknown) => {
        const e = err instanceof QueryError ? err : new QueryError("InternalFailure", (err as Error).message, 500);
        const ns = action === "GetCallerIdentity" ? STS_NS : CFN_NS;
        send(res, e.status, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      });
  });
  const listening = await listenOnLoopback(server);
  return { endpoint: listening.endpoint, stacks, requests, close: listening.close };
}

function noEcho(stack: EmulatedStack, key: string): boolean {
  return stack.template.Parameters?.[key]?.NoEcho === true;
}

function required(p: Record<string, string>, key: string): string {
  const v = p[key];
  if (!v) throw new QueryError("ValidationError", `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function metadata(): string {
  return `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/xml", "content-length": Buffer.byteLength(body), "x-amzn-requestid": randomUUID() });
  res.end(body);
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
