/**
 * operations.getDevice: one device's current vendor state. With one `request`, `device` reads its
 * body; with several named `requests` (state spread over resources joined by id), `device` reads
 * the context, where `responses.<name>` holds each body.
 */
import { bindings, type EvalContext } from "../runtime/context.ts";
import type { OperationEnv } from "./environment.ts";
import { requireReadableBody } from "../vendor/unusable.ts";

/** The vendor JSON of `ctx.deviceId`, or undefined/null when the vendor does not know it. */
export async function readDevice(env: OperationEnv, ctx: EvalContext): Promise<unknown> {
  const get = env.bundle.operations.getDevice;
  if (!get) return undefined;
  const rctx: EvalContext = { ...ctx, responses: { ...ctx.responses } };
  let last: unknown;
  for (const call of get.requests) {
    const res = await env.calls.run(call, rctx, env.deadline);
    // A 2xx that is not JSON is the vendor's failure (502), not an unknown device.
    requireReadableBody(res, call.name);
    last = res.body;
  }
  const dctx: EvalContext = { ...rctx, response: last };
  return env.evaluator.evaluate(get.device, get.joined ? dctx : last, bindings(dctx));
}
