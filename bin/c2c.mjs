#!/usr/bin/env node
// The `c2c` command, runnable from the repository without a build: tsx loads the TypeScript sources.
import { register } from "tsx/esm/api";

// The AWS SDK warns on every start under Node 20 about its Node 22 requirement from 2027; the CLI
// supports Node 20, so the notice is noise here. The SDK's own switch turns it off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
const { runCli } = await import("../engine/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
