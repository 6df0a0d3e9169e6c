/**
 * Optional X-Ray tracing through Powertools Tracer, off by default. The template's Tracing
 * parameter switches on the function's active tracing and sets C2C_TRACING=true; only then is the
 * Tracer (and the X-Ray SDK under it) imported, on the first invocation, so a function without
 * tracing never loads it and a cold start never pays for it (the build keeps it in a chunk of its
 * own). With tracing on, each unit of work is a subsegment `## <operation>` annotated with MI's
 * correlation ids, and the Tracer records the vendor's and MI's HTTP calls under it.
 * Annotations carry ids only, never a token or user id.
 */
import { logContext, type CorrelationIds } from "../log/context.ts";

export const TRACING_ENV = "C2C_TRACING";

/** Runs a unit of work in a trace subsegment of its own. */
export interface InvocationTracer {
  trace<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** Annotated on every subsegment when present: what an operator searches traces by. */
const ANNOTATED: Array<keyof CorrelationIds> = ["operation", "traceId", "deviceDiscoveryId", "connectorDeviceId", "jobId", "deliveryId"];

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[TRACING_ENV]?.trim().toLowerCase() === "true";
}

/** The tracer, or undefined when tracing is off; the Tracer module is imported only when it is on. */
export async function loadTracer(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<InvocationTracer | undefined> {
  if (!tracingEnabled(env)) return undefined;
  const { Tracer } = await import("@aws-lambda-powertools/tracer");
  const tracer = new Tracer({ serviceName });
  return {
    async trace(name, fn) {
      const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      if (!parent) return fn();
      const subsegment = parent.addNewSubsegment(`## ${name}`);
      tracer.setSegment(subsegment);
      try {
        return await fn();
      } catch (err) {
        subsegment.addError(err as Error);
        throw err;
      } finally {
        // The ids are known by the end (a job's request is loaded during the run).
        const ids = logContext();
        for (const key of ANNOTATED) if (ids[key]) subsegment.addAnnotation(key, ids[key]!);
        subsegment.close();
        tracer.setSegment(parent);
      }
    },
  };
}
