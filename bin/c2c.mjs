#!/usr/bin/env node
// The `c2c` command, runnable from the repository without a build: tsx loads the TypeScript sources.
import { register } from "tsx/esm/api";

// The AWS SDK warns on every start under Node 20 about its future Node 22 requirement; the CLI
// supports Node 20, so that one notice is noise here. Every other warning is printed as usual.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  const name = warning instanceof Error ? warning.name : type;
  if (name === "NodeVersionSupportWarning") return;
  return emitWarning(warning, ...rest);
};

register();
const { runCli } = await import("../engine/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
