/**
 * The `c2c` command line: authoring, checking and running mapping bundles. `runCli()` is the
 * whole program with its streams and folder passed in, so tests run it in-process; bin/c2c.mjs
 * and `npm run c2c` call it with the real process.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { pathToFileURL } from "node:url";
import { consoles, CliError, type CliConsole, type CliIo } from "./io.ts";
import { validateCommand } from "./commands/validate.ts";
import { testCommand } from "./commands/test.ts";
import { newCommand } from "./commands/new.ts";
import { invokeCommand } from "./commands/invoke.ts";
import { devCommand, docsCommand, registrationCommand } from "./commands/misc.ts";
import { matterCommand } from "./commands/matter.ts";

/** Exit codes: 0 success, 1 the check or run failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port number 0-65535 (0 picks a free port)");
  return n;
}

function buildProgram(con: CliConsole, io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command("c2c");
  program
    .description("Author, check and run C2C connector mapping bundles (mappings/<vendor>/connector.yaml).")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(con.err.c.red(s)),
    })
    .exitOverride()
    .addHelpText(
      "after",
      examples(
        "c2c new acme                      scaffold mappings/acme/",
        "c2c validate                      check every bundle under mappings/",
        "c2c test acme                     run mappings/acme/tests/*.yaml",
        "c2c invoke acme mappings/acme/tests/activate-user.yaml --trace",
        "c2c docs acme > ACME.md",
        "c2c deploy acme --dry-run           print every request a deployment sends",
      ) + "\nA bundle is a folder with a connector.yaml, or its name under mappings/.\nGuide: docs/authoring-guide.md\n",
    );

  program
    .command("validate")
    .description("Check bundles: schema, semantics (JSONata, Matter names, calls), fixtures, and calls against the bundle's OpenAPI document.")
    .argument("[bundle...]", "bundle folders or names under mappings/ (default: all)")
    .option("--json", "machine-readable output for CI")
    .option("--strict", "warnings fail too")
    .option("-w, --watch", "validate again after every edit under the bundles (with --json: JSON lines for an editor task)")
    .addHelpText(
      "after",
      examples("c2c validate", "c2c validate acme", "c2c validate ./my-bundle --strict", "c2c validate --json > report.json", "c2c validate --watch --json") +
        "\nExit code 1 when any bundle has an error (or, with --strict, a warning).\n" +
        '--watch --json prints one JSON line per diagnostic ({"type":"diagnostic","file","line","col","severity","rule",\n' +
        '["hint"],"message"}) between {"type":"start"} and {"type":"end","ok","errors","warnings"} lines, once per run\n' +
        "(.vscode/tasks.json reads them with a problem matcher).\n",
    )
    .action(async (bundles: string[], opts: { json?: boolean; strict?: boolean; watch?: boolean }) => setCode(await validateCommand(bundles, opts, con)));

  program
    .command("test")
    .description("Run bundles' fixture tests (tests/*.yaml) against the engine, with a diff of expected against actual on failure.")
    .argument("[bundle...]", "bundle folders or names under mappings/ (default: all)")
    .option("-f, --filter <text>", "only fixtures whose name or file contains <text>")
    .option("-u, --update", "write the actual ACKs, HTTP answers, events and vendor requests into failing fixtures (keeps comments and the members each expectation names)")
    .option("--print-actual", "print the actual answers, vendor requests and events of every fixture")
    .option("-w, --watch", "run again whenever a file under the bundle changes (Ctrl-C stops)")
    .addHelpText(
      "after",
      examples("c2c test", "c2c test acme", "c2c test acme --filter discover", "c2c test acme --update", "c2c test acme --watch") +
        "\nExit code 1 when a fixture fails, or when --filter matches no fixture.\n",
    )
    .action(async (bundles: string[], opts: { filter?: string; update?: boolean; printActual?: boolean; watch?: boolean }) =>
      setCode(await testCommand(bundles, opts, con)),
    );

  program
    .command("new")
    .description("Scaffold a bundle that validates and passes its fixtures at once.")
    .argument("<vendor>", "vendor id: lower-case letters, digits and dashes")
    .option("--dir <folder>", "parent folder", "mappings")
    .option("--webhook", "also scaffold a webhooks section (signed deliveries, a handshake) and webhook fixtures")
    .addHelpText("after", examples("c2c new acme", "c2c new acme --dir /tmp/bundles", "c2c new acme --webhook") + "\nRefuses to overwrite an existing folder (exit code 1).\n")
    .action(async (vendor: string, opts: { dir?: string; webhook?: boolean }) => setCode(await newCommand(vendor, opts, con)));

  program
    .command("invoke")
    .description("Run one MI request through the engine; print the ACK and the events MI receives.")
    .argument("<bundle>", "bundle folder or name under mappings/")
    .argument("<request>", "MI request as JSON, or a fixture file (replayed whole: exchanges, settings, webhooks)")
    .option("--vendor-url <url>", "send vendor calls to this origin instead of the simulator (its scheme, host and port replace the bundle's)")
    .option("--trace", "print every vendor request and response and every JSONata evaluation with its YAML line")
    .option("--token <token>", "OAuth access token to put in the request (never printed)")
    .addHelpText(
      "after",
      examples(
        "c2c invoke acme mappings/acme/tests/discover-devices.yaml --trace",
        "c2c invoke acme request.json --vendor-url http://127.0.0.1:8080 --token $ACME_TOKEN",
      ) +
        "\nA fixture file runs exactly as `c2c test` runs it: its own exchanges in order (failures included),\nits settings, environment and webhook steps. For a plain request (JSON) the vendor is a simulator\nreplaying every exchange recorded in the bundle's fixtures (successful answers first); placeholder\ntokens are replaced by the fixture token. Events go to the local MI emulator, or to C2C_MI_ENDPOINT\nwhen set (signed with your AWS credentials). Exit code 1 when an ACK or HTTP answer is not 2xx.\n",
    )
    .action(async (bundle: string, request: string, opts: { vendorUrl?: string; trace?: boolean; token?: string }) =>
      setCode(await invokeCommand(bundle, request, opts, con)),
    );

  program
    .command("dev")
    .description("Run a local stack: Lambda-style invoke endpoint, webhook endpoint, vendor simulator and MI emulator.")
    .argument("<bundle>", "bundle folder or name under mappings/")
    .option("-p, --port <port>", "port of the invoke and webhook endpoints", port, 9000)
    .option("--no-watch", "do not reload the bundle after an edit")
    .addHelpText(
      "after",
      examples(
        "c2c dev acme",
        "c2c dev acme --port 0",
        `curl -s http://127.0.0.1:9000/2015-03-31/functions/function/invocations -d @request.json`,
      ) + "\nEvents MI would receive are printed as they arrive. Edits under the bundle are validated and\nserved at once (the previous build stays while the edit does not validate). Ctrl-C stops.\n",
    )
    .action(async (bundle: string, opts: { port: number; watch: boolean }) => setCode(await devCommand(bundle, { port: opts.port, watch: opts.watch }, con)));

  program
    .command("docs")
    .description("Print a Markdown capability matrix: profiles, device types, Matter clusters, attributes and commands.")
    .argument("<bundle>", "bundle folder or name under mappings/")
    .addHelpText("after", examples("c2c docs acme", "c2c docs acme > mappings/acme/CAPABILITIES.md"))
    .action(async (bundle: string) => setCode(await docsCommand(bundle, con)));

  program
    .command("matter")
    .description("List the Matter 1.4 clusters and device types, or show one: features, attributes, commands, fields, events.")
    .argument("[name]", "cluster or device type, by name or hex id (LevelControl, 0x0008, \"Dimmable Light\")")
    .option("--json", "print the table's data as JSON")
    .addHelpText("after", examples("c2c matter", "c2c matter LevelControl", "c2c matter 0x0300", "c2c matter \"Extended Color Light\""))
    .action(async (name: string | undefined, opts: { json?: boolean }) => setCode(await matterCommand(name, opts, con)));

  program
    .command("registration")
    .description("Print the CreateCloudConnector and CreateConnectorDestination request bodies (JSON).")
    .argument("<bundle>", "bundle folder or name under mappings/")
    .option("--lambda-arn <arn>", "ARN of the deployed connector function")
    .option("--cloud-connector-id <id>", "CloudConnectorId returned by CreateCloudConnector")
    .option("--secret-arn <arn>", "Secrets Manager secret with the OAuth client credentials")
    .option("--secret-version-id <id>", "version of that secret")
    .option("--redirect-url <url>", "where MI sends the user after account linking")
    .option("--name <name>", "connector name (default: the vendor name)")
    .addHelpText(
      "after",
      examples("c2c registration acme", "c2c registration acme --lambda-arn arn:aws:lambda:us-east-1:123456789012:function:acme-connector") +
        "\nValues not given stay as <PLACEHOLDER> strings, listed on stderr.\n",
    )
    .action(
      async (
        bundle: string,
        opts: { lambdaArn?: string; cloudConnectorId?: string; secretArn?: string; secretVersionId?: string; redirectUrl?: string; name?: string },
      ) =>
        setCode(
          await registrationCommand(
            bundle,
            {
              lambdaArn: opts.lambdaArn,
              cloudConnectorId: opts.cloudConnectorId,
              secretArn: opts.secretArn,
              secretVersionId: opts.secretVersionId,
              redirectUrl: opts.redirectUrl,
              connectorName: opts.name,
            },
            con,
          ),
        ),
    );
  program
    .command("deploy")
    .description("Build a bundle and deploy it: artifact to S3, destination secret, cloud connector, CloudFormation stack, connector destination.")
    .argument("<bundle>", "bundle folder or name under mappings/")
    .option("--dry-run", "send nothing; print every request in order (method, URL, body with secrets redacted)")
    .option("--bucket <name>", "S3 bucket for function.zip (versioning on: the object version is pinned too)")
    .option("--region <region>", "AWS region (default: AWS_REGION)")
    .option("--stack-name <name>", "CloudFormation stack (default: c2c-<vendor>)")
    .option("--function-name <name>", "Lambda function name (default: c2c-<vendor>)")
    .option("--key-prefix <prefix>", "prefix of the S3 key (<prefix><vendor>/function-<sha256>.zip)")
    .option("--secret-file <file>", "JSON to store as the destination secret (OAuth client id/secret or General Authorization material)")
    .option("--secret-name <name>", "name of the secret to create or update (default: c2c/<vendor>/destination)")
    .option("--kms-key-id <key>", "customer-managed KMS key of the secret (MI requires one for OAuth client credentials)")
    .option("--secret-arn <arn>", "use an existing secret instead of --secret-file")
    .option("--secret-version-id <id>", "version of --secret-arn (default: its AWSCURRENT version)")
    .option("--parameter <KEY=VALUE>", "value of another template parameter (repeatable; NoEcho values are never printed)", (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--redirect-url <url>", "where MI sends the user after account linking (oAuthCompleteRedirectUrl)")
    .option("--name <name>", "connector name (default: the vendor name)")
    .option("--out <folder>", "build output folder (default: dist/)")
    .option("--poll-seconds <seconds>", "first wait between stack status polls (grows to 6x)", (v: string) => {
      const n = Number(v);
      if (!(n > 0) || n > 300) throw new InvalidArgumentError("seconds above 0, at most 300");
      return n;
    })
    .option("--no-build", "deploy the artifact an earlier build left in <out>/<bundle> (build once, deploy what was tested)")
    .addHelpText(
      "after",
      examples(
        "c2c deploy acme --dry-run",
        "c2c deploy acme --bucket my-artifacts --secret-file acme-client.json --kms-key-id alias/c2c",
        "c2c deploy acme --bucket my-artifacts --secret-arn arn:aws:secretsmanager:...:secret:acme --parameter SecretArnAcmeWebhookSecret=arn:aws:secretsmanager:...:secret:acme-webhook",
      ) +
        "\nOrder: GetCallerIdentity, DescribeStacks (all parameters checked before anything is written), S3 upload,\n" +
        "secret, CreateCloudConnector, CreateStack/UpdateStack (waited for), CreateConnectorDestination.\n" +
        "Re-running is safe: an uploaded artifact, a registered connector and an unchanged stack are reused.\n" +
        "Endpoints: AWS_ENDPOINT_URL_S3, _CLOUDFORMATION, _STS, _SECRETS_MANAGER and C2C_MI_ENDPOINT override them.\n",
    )
    .action(async (bundle: string, opts: Record<string, unknown>) => {
      // Loaded on use: the deploy clients are large, and no other command needs them.
      const { deployCommand } = await import("./commands/deploy.ts");
      const poll = opts.pollSeconds as number | undefined;
      setCode(await deployCommand(bundle, { ...opts, ...(poll ? { waiter: { minDelay: poll, maxDelay: poll * 6, maxWaitTime: 3600 } } : {}) }, con));
    });
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, cwd: io.cwd ?? process.cwd(), env: io.env ?? process.env };
  const con = consoles(full);
  let code: number = EXIT.ok;
  const program = buildProgram(con, full, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; anything else is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      con.err.line(`${con.err.c.red("error:")} ${err.message}`);
      return err.code;
    }
    con.err.line(`${con.err.c.red("unexpected error:")} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.failed;
  }
}

/** True when this module is the program being run (tsx engine/cli/main.ts), not imported. */
function isMain(): boolean {
  const entry = process.argv[1];
  return !!entry && import.meta.url === pathToFileURL(entry).href;
}

if (isMain()) {
  // Same as bin/c2c.mjs: the SDK's Node 22 notice is noise for a CLI that supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
