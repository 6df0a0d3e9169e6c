// Types of build.mjs's exports, for tests that import it.
export declare const MAX_ZIP_BYTES: number;
export declare const FORBIDDEN_INPUTS: Array<{ pattern: RegExp; why: string }>;
export declare function forbiddenInputs(metafile: { inputs: Record<string, unknown> }): Array<{ input: string; why: string }>;
export interface BuildSummary {
  name: string;
  out: string;
  indexBytes: number;
  zipBytes: number;
  warnings: string[];
}
export declare function loadBuildModules(): Promise<unknown>;
export declare function buildBundle(bundleDir: string, outRoot: string, modules: unknown): Promise<BuildSummary>;
