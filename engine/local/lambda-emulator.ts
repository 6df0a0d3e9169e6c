import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, readTextBody } from "./loopback.ts";

/**
 * A loopback stand-in for the function service's Invoke API (REST JSON,
 * POST /2015-03-31/functions/{name}/invocations), recording what it receives so the real SDK
 * client can be exercised in tests and local runs.
 */

export interface RecordedInvocation {
  functionName: string;
  qualifier?: string;
  invocationType: string;
  /** The request body parsed as JSON, or its raw text when it is not JSON. */
  payload: unknown;
}

export interface LambdaEmulatorOptions {
  /** When given, invoking any other function name answers 404 ResourceNotFoundException. */
  functions?: string[];
  /** Result body for RequestResponse invocations; null when absent. */
  respond?(invocation: RecordedInvocation): unknown;
}

export interface LambdaEmulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Every accepted invocation, in arrival order. */
  readonly invocations: RecordedInvocation[];
  close(): Promise<void>;
}

const ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startLambdaEmulator(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
  const invocations: RecordedInvocation[] = [];
  const known = options.functions ? new Set(options.functions) : undefined;

  const server = createServer((req, res) => {
    readTextBody(req)
      .then((body) => {
        const url = new URL(req.url ?? "/", "http://local");
        const match = ROUTE.exec(url.pathname);
        if (req.method !== "POST" || !match) {
          return sendError(res, 404, "UnknownOperationException", "only Invoke is emulated");
        }
        const functionName = decodeURIComponent(match[1]);
        if (known && !known.has(functionName)) {
          return sendError(res, 404, "ResourceNotFoundException", "Function not found");
        }
        const invocationType = headerValue(req, "x-amz-invocation-type") ?? "RequestResponse";
        const qualifier = url.searchParams.get("Qualifier") ?? undefined;
        const invocation: RecordedInvocation = { functionName, invocationType, payload: parsePayload(body) };
        if (qualifier) invocation.qualifier = qualifier;

        if (invocationType === "DryRun") {
          res.writeHead(204).end();
          return;
        }
        if (invocationType === "Event") {
          invocations.push(invocation);
          res.writeHead(202, { "content-length": 0 }).end();
          return;
        }
        if (invocationType !== "RequestResponse") {
          return sendError(res, 400, "InvalidParameterValueException", "unknown invocation type");
        }
        invocations.push(invocation);
        const result = JSON.stringify(options.respond ? (options.respond(invocation) ?? null) : null);
        res.writeHead(200, { "content-type": "application/json", "x-amz-executed-version": "$LATEST" });
        res.end(result);
      })
      .catch(() => sendError(res, 500, "ServiceException", "emulator failure"));
  });

  const listening = await listenOnLoopback(server);
    return {
    endpoint: listening.endpoint,
    invocations,
    close: listening.close,
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parsePayload(body: string): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}


function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  const text = JSON.stringify({ Type: "User", message });
  res.writeHead(status, {
    "content-type": "application/json",
    "x-amzn-ErrorType": type,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
