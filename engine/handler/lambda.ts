/**
 * The Lambda entry point of a built artifact. build.mjs resolves the virtual module
 * `c2c:compiled-bundle` to one bundle's compiled JSON, so the function starts from data:
 * no YAML parsing and no schema compilation at cold start.
 */
import compiled from "c2c:compiled-bundle";
import type { CompiledBundle } from "../mapping/compiled.ts";
import { createLambdaHandler } from "./create-handler.ts";

export const handler = createLambdaHandler(compiled as CompiledBundle);
