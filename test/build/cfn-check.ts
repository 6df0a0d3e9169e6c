/**
 * Static checks of a CloudFormation JSON template, the ones `aws cloudformation validate-template`
 * would make plus reference integrity: known resource types, every Ref / GetAtt / Sub variable /
 * DependsOn pointing at a declared parameter or resource, no dependency cycle, well-formed Outputs.
 */

/** Resource types the generator may emit, with the GetAtt attributes each supports. */
export const KNOWN_RESOURCE_TYPES: Record<string, string[]> = {
  "AWS::Lambda::Function": ["Arn", "SnapStartResponse.ApplyOn"],
  "AWS::Lambda::Permission": ["Id"],
  "AWS::Lambda::Url": ["FunctionArn", "FunctionUrl"],
  "AWS::Lambda::EventInvokeConfig": [],
  "AWS::Lambda::EventSourceMapping": ["EventSourceMappingArn", "Id"],
  "AWS::IAM::Role": ["Arn", "RoleId"],
  "AWS::DynamoDB::Table": ["Arn", "StreamArn"],
  "AWS::SQS::Queue": ["Arn", "QueueName", "QueueUrl"],
  "AWS::Logs::LogGroup": ["Arn"],
  "AWS::CloudWatch::Alarm": ["Arn"],
  "AWS::Scheduler::Schedule": ["Arn"],
};
export const PSEUDO_PARAMETERS = ["AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId", "AWS::URLSuffix", "AWS::NoValue"];
const PARAMETER_TYPES = ["String", "Number", "CommaDelimitedList", "List<Number>"];
const INTRINSICS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split"];
/** Functions of Conditions and Rules (plus `Condition` naming another condition). */
const CONDITION_FUNCTIONS = ["Ref", "Fn::Equals", "Fn::Not", "Fn::Or", "Fn::And", "Fn::Contains"];
const TOP_LEVEL = ["AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions", "Transform", "Resources", "Outputs"];

type Obj = Record<string, any>;

export function checkTemplate(template: Obj): string[] {
  const problems: string[] = [];
  const params = template.Parameters ?? {};
  const resources = template.Resources ?? {};
  for (const key of Object.keys(template)) if (!TOP_LEVEL.includes(key)) problems.push(`unknown top-level section ${key}`);
  if (template.AWSTemplateFormatVersion !== "2010-09-09") problems.push("AWSTemplateFormatVersion must be 2010-09-09");
  if (typeof template.Description === "string" && template.Description.length > 1024) problems.push("Description over 1024 characters");
  if (Object.keys(resources).length === 0) problems.push("no Resources");

  const logicalId = /^[A-Za-z0-9]{1,255}$/;
  for (const [name, p] of Object.entries<Obj>(params)) {
    if (!logicalId.test(name)) problems.push(`parameter ${name}: logical ids are alphanumeric`);
    if (!PARAMETER_TYPES.includes(p.Type)) problems.push(`parameter ${name}: unknown Type ${p.Type}`);
    if (p.Default !== undefined && p.AllowedPattern && !new RegExp(p.AllowedPattern).test(p.Default)) problems.push(`parameter ${name}: Default does not match AllowedPattern`);
    if (p.Default !== undefined && p.AllowedValues && !p.AllowedValues.includes(p.Default)) problems.push(`parameter ${name}: Default not in AllowedValues`);
  }

  const edges = new Map<string, Set<string>>();
  const used = new Set<string>();
  for (const [name, r] of Object.entries<Obj>(resources)) {
    if (!logicalId.test(name)) problems.push(`resource ${name}: logical ids are alphanumeric`);
    if (name in params) problems.push(`${name} is both a parameter and a resource`);
    if (!(r.Type in KNOWN_RESOURCE_TYPES)) problems.push(`resource ${name}: unknown Type ${r.Type}`);
    for (const key of Object.keys(r)) if (!["Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata"].includes(key)) problems.push(`resource ${name}: unknown attribute ${key}`);
    const deps = new Set<string>();
    for (const d of [r.DependsOn ?? []].flat()) {
      if (!(d in resources)) problems.push(`resource ${name}: DependsOn ${d} is not a resource`);
      deps.add(d);
    }
    walk(r.Properties ?? {}, `Resources.${name}.Properties`, { params, resources, problems, deps, used });
    deps.delete(name);
    edges.set(name, deps);
  }

  const outputs = template.Outputs ?? {};
  for (const [name, o] of Object.entries<Obj>(outputs)) {
    if (!logicalId.test(name)) problems.push(`output ${name}: logical ids are alphanumeric`);
    if (o.Value === undefined) problems.push(`output ${name}: no Value`);
    for (const key of Object.keys(o)) if (!["Value", "Description", "Export", "Condition"].includes(key)) problems.push(`output ${name}: unknown key ${key}`);
    walk(o.Value, `Outputs.${name}`, { params, resources, problems, deps: new Set(), used });
  }
  // Conditions and Rules: references to parameters only, and every condition named is declared.
  const conditions = template.Conditions ?? {};
  const checkCondition = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => checkCondition(n, `${at}[${i}]`));
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node as Obj)) {
      if (k === "Condition") {
        if (!(v in conditions)) problems.push(`${at}: condition ${v} is not declared`);
      } else if (k === "Ref") {
        if (v in params) used.add(v);
        else if (!PSEUDO_PARAMETERS.includes(v)) problems.push(`${at}: Ref ${v} is not a parameter`);
      } else if (k.startsWith("Fn::") && !CONDITION_FUNCTIONS.includes(k)) problems.push(`${at}: ${k} is not a condition function`);
      else checkCondition(v, `${at}.${k}`);
    }
  };
  for (const [name, c] of Object.entries(conditions)) checkCondition(c, `Conditions.${name}`);
  for (const [name, r] of Object.entries<Obj>(template.Rules ?? {})) {
    if (!Array.isArray(r.Assertions) || r.Assertions.length === 0) problems.push(`rule ${name}: no Assertions`);
    checkCondition(r, `Rules.${name}`);
  }
  const checkIfs = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => checkIfs(n, `${at}[${i}]`));
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node as Obj)) {
      if (k === "Fn::If" && (!Array.isArray(v) || v.length !== 3 || !(v[0] in conditions))) problems.push(`${at}: Fn::If names no declared condition`);
      if (k === "Condition" && typeof v === "string" && !(v in conditions)) problems.push(`${at}: condition ${v} is not declared`);
      checkIfs(v, `${at}.${k}`);
    }
  };
  checkIfs(resources, "Resources");
  checkIfs(outputs, "Outputs");
  for (const name of Object.keys(params)) if (!used.has(name)) problems.push(`parameter ${name} is never used`);
  const cycle = findCycle(edges);
  if (cycle) problems.push(`circular dependency: ${cycle.join(" -> ")}`);
  return problems;
}

interface WalkState {
  params: Obj;
  resources: Obj;
  problems: string[];
  deps: Set<string>;
  used: Set<string>;
}

function walk(node: unknown, at: string, s: WalkState): void {
  if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`, s));
  if (!node || typeof node !== "object") return;
  const obj = node as Obj;
  const keys = Object.keys(obj);
  const fn = keys.find((k) => k === "Ref" || k.startsWith("Fn::"));
  if (fn) {
    if (keys.length !== 1) s.problems.push(`${at}: an intrinsic function must be the only key`);
    if (!INTRINSICS.includes(fn)) s.problems.push(`${at}: unsupported intrinsic ${fn}`);
    if (fn === "Ref") refName(obj.Ref, at, s);
    else if (fn === "Fn::GetAtt") getAtt(obj[fn], at, s);
    else if (fn === "Fn::Sub") {
      if (typeof obj[fn] !== "string") s.problems.push(`${at}: Fn::Sub takes a string here`);
      else for (const m of obj[fn].matchAll(/\$\{([^}!]+)\}/g)) {
        const [target, attr] = m[1].split(".");
        if (attr) getAtt([target, attr], at, s);
        else refName(target, at, s);
      }
    } else walk(obj[fn], at, s);
    return;
  }
  for (const [k, v] of Object.entries(obj)) walk(v, `${at}.${k}`, s);
}

function refName(name: unknown, at: string, s: WalkState): void {
  if (typeof name !== "string") return void s.problems.push(`${at}: Ref takes a name`);
  if (PSEUDO_PARAMETERS.includes(name)) return;
  if (name in s.params) s.used.add(name);
  else if (name in s.resources) s.deps.add(name);
  else s.problems.push(`${at}: Ref ${name} is neither a parameter nor a resource`);
}

function getAtt(args: unknown, at: string, s: WalkState): void {
  if (!Array.isArray(args) || args.length !== 2) return void s.problems.push(`${at}: Fn::GetAtt takes [resource, attribute]`);
  const [resource, attribute] = args;
  const r = s.resources[resource];
  if (!r) return void s.problems.push(`${at}: GetAtt ${resource} is not a resource`);
  s.deps.add(resource);
  if (!(KNOWN_RESOURCE_TYPES[r.Type] ?? []).includes(attribute)) s.problems.push(`${at}: ${r.Type} has no attribute ${attribute}`);
}

function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const d of edges.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of edges.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
